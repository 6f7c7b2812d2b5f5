"""An admin hands everything a departed seller had to colleagues, over the API.

Stefan leaves. His companies, persons, leads, deals (a won one too), offers, invoices (a
paid one too), tasks, his deputyship on a colleague's company and a contract of the partner
plugin are previewed, moved (to one user, or split per type and across a team), undone —
and the bad requests change nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from opiekun import local_time
from opiekun.extensions import db
from opiekun.models import Notification
from tests.offboarding.transfer_helpers import TRANSFERS, created, depart, owners, task_type_id, transfer

PREVIEW = "/offboarding/{}/preview"


def today(offset: int = 0) -> str:
    return (local_time.today() + dt.timedelta(days=offset)).isoformat()


def build_portfolio(api, admin, seller, pipeline) -> dict[str, list[int]]:
    """What Stefan has before he leaves; returns ids per API path."""
    ids: dict[str, list[int]] = {}

    def add(path: str, body: dict, owner: dict = seller) -> dict:
        record = created(api.post(path, owner, json=body))
        ids.setdefault(path, []).append(record["id"])
        return record

    firms = [add("/companies", {"name": f"Firma {n}"}) for n in range(3)]
    add("/persons", {"first_name": "Jan", "last_name": "Kowalski", "company_id": firms[0]["id"]})
    add("/persons", {"first_name": "Ewa", "last_name": "Lis"})
    add("/leads", {"name": "Zapytanie z targów"})
    add("/deals", {"name": "Pompy", "company_id": firms[0]["id"], "stage": "Kontakt"})
    add("/deals", {"name": "Sprężarki", "stage": "Oferta"})
    won = add("/deals", {"name": "Serwis", "stage": "Negocjacje"})
    created(api.post(f"/deals/{won['id']}/win", seller, json={}))
    add("/offers", {"name": "Oferta 1/2026", "status": "draft", "value": "100.00"})
    add("/invoices", {"number": "FV/1", "amount": "10.00", "status": "issued"})
    add("/invoices", {"number": "FV/2", "amount": "20.00", "status": "paid"})
    kind = task_type_id(api, seller)
    add("/tasks", {"title": "Zadzwonić", "type_id": kind})
    add("/tasks", {"title": "Wysłać ofertę", "type_id": kind})
    done = add("/tasks", {"title": "Spotkanie", "type_id": kind})
    created(api.patch(f"/tasks/{done['id']}", seller, json={"done": True}))
    add("/contracts", {"name": "Serwis 2026", "company_id": firms[1]["id"], "start_date": today()})
    colleague_firm = created(api.post("/companies", admin, json={"name": "Firma Ady"}))
    ids["deputy_of"] = [colleague_firm["id"]]
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": [colleague_firm["id"]],
                "user_id": seller["id"],
                "kind": "deputy",
                "valid_from": today(-10),
            },
        )
    )
    return ids


def count_rows(app, table: str) -> int:
    with app.app_context():
        return db.session.scalar(text(f"SELECT count(*) FROM {table}"))


# --- preview ----------------------------------------------------------------------------------


def test_the_preview_counts_everything_the_departed_user_has_per_type_open_and_closed(api, admin, seller, pipeline):
    build_portfolio(api, admin, seller, pipeline)
    depart(api, admin, seller)

    preview = created(api.get(PREVIEW.format(seller["id"]), admin))
    assert preview["user"]["status"] == "departed"
    counts = {(item["object_type"], item["kind"]): (item["open"], item["closed"]) for item in preview["items"]}
    assert counts == {
        ("company", "owner"): (3, 0),
        ("person", "owner"): (2, 0),
        ("lead", "owner"): (1, 0),
        ("deal", "owner"): (2, 1),
        ("offer", "owner"): (1, 0),
        ("invoice", "owner"): (1, 1),
        ("task", "responsible"): (2, 1),
        ("contract", "owner"): (1, 0),
        ("company", "deputy"): (1, 0),
    }
    assert preview["total"] == 3 + 2 + 1 + 3 + 1 + 2 + 3 + 1 + 1
    assert {item["label"] for item in preview["items"]} >= {"Companies", "Tasks", "Contracts"}

    open_only = created(api.get(PREVIEW.format(seller["id"]) + "?include_closed=false", admin))
    closed = {(item["object_type"], item["kind"]): item["closed"] for item in open_only["items"]}
    assert set(closed.values()) == {0} and open_only["total"] == preview["total"] - 3


# --- one recipient ----------------------------------------------------------------------------


def test_everything_moves_to_one_colleague_with_history_and_a_notification(
    app, api, admin, seller, other_seller, pipeline
):
    ids = build_portfolio(api, admin, seller, pipeline)
    with app.app_context():  # Stefan has owned them for a while
        db.session.execute(text(f"UPDATE ownership_assignments SET valid_from = '{today(-30)}' WHERE kind = 'primary'"))
        db.session.commit()
    depart(api, admin, seller)

    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    assert state["status"] == "done" and state["error"] is None
    assert state["progress"] == {"done": 17, "total": 17}, (state["counts"], state["steps"])
    assert state["counts"]["deal"] == {"owner": 3} and state["counts"]["task"] == {"responsible": 3}
    assert state["counts"]["company"] == {"owner": 3, "deputy": 1} and state["counts"]["contract"] == {"owner": 1}
    for path in ("/companies", "/persons", "/leads", "/deals", "/offers", "/invoices", "/tasks", "/contracts"):
        assert set(owners(api, admin, path, ids[path])) == {other_seller["id"]}, path
    assert created(api.get(PREVIEW.format(seller["id"]), admin))["items"] == [], "nothing is left behind"
    deputies = created(
        api.get(f"/ownership/assignments?object_type=company&object_id={ids['deputy_of'][0]}&kind=deputy", admin)
    )["items"]
    assert [(d["user_id"], d["valid_to"]) for d in deputies] == [(seller["id"], today(-1)), (other_seller["id"], None)]
    [handed_over] = created(
        api.get(f"/audit?object_type=company&object_id={ids['deputy_of'][0]}&operation=owner_assigned", admin)
    )["items"][:1]
    assert handed_over["context"]["offboarding_transfer_id"] == state["id"], "the deputy's change is in the history"
    assert [(c["old"], c["new"]) for c in handed_over["changes"] if c["field"] == "user_id"] == [
        (seller["id"], other_seller["id"])
    ]

    firm = ids["/companies"][0]
    history = created(api.get(f"/audit?object_type=company&object_id={firm}&operation=update", admin))["items"]
    [moved] = [entry for entry in history if (entry["context"] or {}).get("offboarding_transfer_id") == state["id"]]
    [change] = [change for change in moved["changes"] if change["field"] == "owner_id"]
    assert (change["old"], change["new"]) == (seller["id"], other_seller["id"])
    assert (change["old_label"], change["new_label"]) == (seller["name"], other_seller["name"])
    periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firm}", admin))["items"]
    assert [p["user_id"] for p in periods if p["kind"] == "primary"] == [seller["id"], other_seller["id"]], (
        "the former owner stays in the ownership history"
    )

    with app.app_context():
        notices = db.session.execute(
            select(Notification.user_id, Notification.kind, Notification.data).where(
                Notification.kind == "offboarding.received"
            )
        ).all()
        assert [(user_id, data["counts"]["company"], data["counts"]["task"]) for user_id, _, data in notices] == [
            (other_seller["id"], 4, 3)
        ]
        assert (
            db.session.scalar(
                select(func.count()).select_from(Notification).where(Notification.user_id == seller["id"])
            )
            == 0
        ), "the departed user is told nothing"
        departures = db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "offboarding.departed")
        ).all()
        assert departures == [admin["id"]], "admins learn that someone's items wait for them"


def test_open_items_only_leaves_closed_deals_invoices_and_done_tasks(api, admin, seller, other_seller, pipeline):
    ids = build_portfolio(api, admin, seller, pipeline)
    depart(api, admin, seller)
    state = transfer(
        api,
        admin,
        {
            "from_user_id": seller["id"],
            "to_user_id": other_seller["id"],
            "include_closed": False,
            "object_types": ["deal", "invoice", "task"],
        },
    )
    assert state["counts"] == {"deal": {"owner": 2}, "invoice": {"owner": 1}, "task": {"responsible": 2}}
    assert owners(api, admin, "/deals", ids["/deals"]) == [other_seller["id"], other_seller["id"], seller["id"]]
    assert owners(api, admin, "/invoices", ids["/invoices"]) == [other_seller["id"], seller["id"]]
    assert owners(api, admin, "/tasks", ids["/tasks"]) == [other_seller["id"], other_seller["id"], seller["id"]]
    assert set(owners(api, admin, "/companies", ids["/companies"])) == {seller["id"]}, "types not chosen stay"


# --- splits -----------------------------------------------------------------------------------


def test_a_split_gives_types_whole_to_some_and_shares_the_rest_evenly(api, admin, seller, other_seller, team):
    firms = [created(api.post("/companies", seller, json={"name": f"F{n}"}))["id"] for n in range(10)]
    persons = [
        created(api.post("/persons", seller, json={"first_name": "P", "last_name": str(n)}))["id"] for n in range(7)
    ]
    # every other company already went to someone else: a split by id parity would be lopsided
    for firm in firms[::2]:
        created(api.patch(f"/companies/{firm}", admin, json={"owner_id": admin["id"]}))
    depart(api, admin, seller)

    state = transfer(
        api,
        admin,
        {
            "from_user_id": seller["id"],
            "split": [
                {"user_id": other_seller["id"], "object_types": ["person"]},
                {"user_id": team[0]["id"], "share": 1},
                {"user_id": team[1]["id"], "share": 1},
                {"user_id": team[2]["id"], "share": 1},
            ],
        },
    )
    assert state["status"] == "done"
    assert set(owners(api, admin, "/persons", persons)) == {other_seller["id"]}
    mine = owners(api, admin, "/companies", firms[1::2])
    assert sorted(mine.count(member["id"]) for member in team) == [1, 2, 2], "round-robin by count: 5 over 3"
    assert [step["share"] for step in state["steps"] if step["object_type"] == "company"] == [[1, 3], [1, 2], None]


def test_weights_split_a_type_in_proportion(api, admin, seller, team):
    firms = [created(api.post("/companies", seller, json={"name": f"F{n}"}))["id"] for n in range(9)]
    depart(api, admin, seller)
    transfer(
        api,
        admin,
        {
            "from_user_id": seller["id"],
            "split": [{"user_id": team[0]["id"], "share": 2}, {"user_id": team[1]["id"], "share": 1}],
        },
    )
    got = owners(api, admin, "/companies", firms)
    assert (got.count(team[0]["id"]), got.count(team[1]["id"])) == (6, 3)


def test_what_a_split_would_move_is_counted_before_it_starts_as_it_then_moves(app, api, admin, seller, team):
    """The summary the admin confirms comes from the planner: per step, the part of its type
    (weight over all weights) and how many items it moves — the counts the job then moves."""
    from opiekun.plugins.offboarding.planning import SplitPart, TransferPlan, expected_transfer

    for n in range(10):
        created(api.post("/companies", seller, json={"name": f"F{n}"}))
    for n in range(3):
        created(api.post("/persons", seller, json={"first_name": "P", "last_name": str(n)}))
    depart(api, admin, seller)
    split = [
        {"user_id": team[0]["id"], "object_types": ["person"]},
        {"user_id": team[1]["id"], "share": 2},
        {"user_id": team[2]["id"], "share": 1},
        {"user_id": admin["id"], "share": 1},
    ]
    plan = TransferPlan(from_user_id=seller["id"], split=tuple(SplitPart(**part) for part in split))
    with app.app_context():
        expected = expected_transfer(plan)
        following = expected_transfer(
            TransferPlan(from_user_id=seller["id"], to_user_id=admin["id"], follow_company=True)
        )
    planned = [(step.step.object_type, step.step.to_user_id, step.part, step.count) for step in expected.steps]
    assert planned == [
        ("person", team[0]["id"], None, 3),
        ("company", team[1]["id"], (1, 2), 6),  # 2 of every 4, in id order: ranks 0, 1, 4, 5, 8, 9
        ("company", team[2]["id"], (1, 4), 2),
        ("company", admin["id"], (1, 4), 2),
    ]
    assert expected.total == 13 and not expected.approximate
    assert created(api.get(TRANSFERS, admin))["total"] == 0, "nothing planned or moved"

    state = transfer(api, admin, {"from_user_id": seller["id"], "split": split})
    assert [(step["object_type"], step["to_user_id"], step["moved"]) for step in state["steps"]] == [
        (object_type, user_id, count) for object_type, user_id, _, count in planned
    ]
    assert following.approximate and [step.count for step in following.steps if step.step.follow_company] == [None]


def test_deputies_can_be_promoted_instead_of_handing_records_to_the_recipient(api, admin, seller, other_seller, team):
    covered = created(api.post("/companies", seller, json={"name": "Z zastępcą"}))
    plain = created(api.post("/companies", seller, json={"name": "Bez zastępcy"}))
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": [covered["id"]],
                "user_id": team[0]["id"],
                "kind": "deputy",
                "valid_from": today(-3),
            },
        )
    )
    depart(api, admin, seller)
    state = transfer(
        api,
        admin,
        {"from_user_id": seller["id"], "to_user_id": other_seller["id"], "options": {"promote_deputies": True}},
    )
    assert owners(api, admin, "/companies", [covered["id"], plain["id"]]) == [team[0]["id"], other_seller["id"]]
    assert state["counts"]["company"] == {"promoted_deputy": 1, "owner": 1}
    periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={covered['id']}", admin))["items"]
    in_force = [(p["user_id"], p["kind"]) for p in periods if p["valid_to"] is None]
    assert in_force == [(team[0]["id"], "primary")], "the deputy became the primary owner, no longer a deputy"


def test_records_can_follow_their_company_in_a_split(api, admin, seller, team, pipeline):
    firms = [created(api.post("/companies", seller, json={"name": f"F{n}"}))["id"] for n in range(2)]
    staff = {
        firm: [
            created(
                api.post("/persons", seller, json={"first_name": "P", "last_name": f"{firm}-{n}", "company_id": firm})
            )["id"]
            for n in range(3)
        ]
        for firm in firms
    }
    deal = created(api.post("/deals", seller, json={"name": "Umowa", "company_id": firms[1]}))["id"]
    loose = [
        created(api.post("/persons", seller, json={"first_name": "Bez", "last_name": f"firmy {n}"}))["id"]
        for n in range(2)
    ]
    depart(api, admin, seller)

    state = transfer(
        api,
        admin,
        {
            "from_user_id": seller["id"],
            "follow_company": True,
            "object_types": ["person", "company"],
            "split": [{"user_id": team[0]["id"], "share": 1}, {"user_id": team[1]["id"], "share": 1}],
        },
    )
    assert state["status"] == "done" and [step["object_type"] for step in state["steps"]][:2] == ["company", "company"]
    for firm in firms:
        [company_owner] = owners(api, admin, "/companies", [firm])
        assert set(owners(api, admin, "/persons", staff[firm])) == {company_owner}, "persons follow their company"
    assert sorted(owners(api, admin, "/persons", loose)) == sorted([team[0]["id"], team[1]["id"]]), "the rest is shared"
    assert owners(api, admin, "/deals", [deal]) == [seller["id"]], "types not chosen stay"


def test_deputies_of_moved_records_stay_unless_asked_otherwise(api, admin, seller, other_seller, team):
    firms = {
        user["id"]: created(api.post("/companies", user, json={"name": user["name"]}))["id"]
        for user in (seller, other_seller)
    }
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": list(firms.values()),
                "user_id": team[0]["id"],
                "kind": "deputy",
                "valid_from": today(-3),
            },
        )
    )
    depart(api, admin, seller)
    depart(api, admin, other_seller)
    transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": team[1]["id"]})
    transfer(
        api,
        admin,
        {"from_user_id": other_seller["id"], "to_user_id": team[1]["id"], "options": {"deputies_stay": False}},
    )

    def deputies_in_force(firm: int) -> list[int]:
        periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firm}&kind=deputy", admin))[
            "items"
        ]
        return [p["user_id"] for p in periods if p["valid_to"] is None]

    assert deputies_in_force(firms[seller["id"]]) == [team[0]["id"]], (
        "by default the deputies stay (Salesforce: keep the team)"
    )
    assert deputies_in_force(firms[other_seller["id"]]) == [], "asked otherwise, their periods end"
    assert owners(api, admin, "/companies", list(firms.values())) == [team[1]["id"]] * 2


# --- undo -------------------------------------------------------------------------------------


def test_undo_puts_items_back_but_keeps_and_lists_what_changed_since(api, admin, seller, other_seller, team, pipeline):
    firms = [created(api.post("/companies", seller, json={"name": f"F{n}"}))["id"] for n in range(4)]
    kind = task_type_id(api, seller)
    task = created(api.post("/tasks", seller, json={"title": "Zadzwonić", "type_id": kind}))["id"]
    depart(api, admin, seller)
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    created(api.patch(f"/companies/{firms[0]}", other_seller, json={"phone": "+48 600 100 200"}))  # worked on since
    created(api.patch(f"/companies/{firms[1]}", admin, json={"owner_id": team[0]["id"]}))  # given to someone else
    assert api.delete(f"/companies/{firms[2]}", admin).status_code == 204

    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    assert (undone["restored"], undone["kept"]) == (2, 3)
    assert undone["transfer"]["status"] == "undone" and undone["transfer"]["undone_at"]
    assert {(item["object_id"], item["outcome"]) for item in undone["kept_items"]} == {
        (firms[0], "changed"),
        (firms[1], "reassigned"),
        (firms[2], "deleted"),
    }
    assert owners(api, admin, "/companies", [firms[0], firms[1], firms[3]]) == [
        other_seller["id"],
        team[0]["id"],
        seller["id"],
    ], "changed items are not overwritten"
    assert owners(api, admin, "/tasks", [task]) == [seller["id"]]
    kept = created(api.get(f"{TRANSFERS}/{state['id']}/items?kept=true", admin))
    assert kept["total"] == 3
    history = created(api.get(f"/audit?object_type=company&object_id={firms[3]}&operation=update", admin))["items"]
    assert (history[0]["context"] or {}).get("offboarding_undo_of") == state["id"], "the undo is in the history too"

    again = api.post(f"{TRANSFERS}/{state['id']}/undo", admin)
    assert again.status_code == 409 and "already undone" in again.get_json()["error"]["message"]


def test_undo_hands_deputy_and_planned_periods_back_unless_they_changed_since(api, admin, seller, other_seller, team):
    firms = [created(api.post("/companies", other_seller, json={"name": f"Cudza {n}"}))["id"] for n in range(4)]
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": [*firms[:2], firms[3]],
                "user_id": seller["id"],
                "kind": "deputy",
                "valid_from": today(-3),
            },
        )
    )
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": [firms[2]],
                "user_id": seller["id"],
                "valid_from": today(10),
                "on_overlap": "replace",
            },
        )
    )
    depart(api, admin, seller)

    def holders(firm: int, kind: str) -> list[int]:
        """Who holds the record's periods of ``kind`` that are in force or still to come."""
        periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firm}&kind={kind}", admin))[
            "items"
        ]
        return sorted(p["user_id"] for p in periods if p["valid_to"] is None or p["valid_to"] >= today())

    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": team[0]["id"]})
    assert state["counts"]["company"] == {"deputy": 3, "planned_owner": 1}
    moved = created(api.get(f"{TRANSFERS}/{state['id']}/items", admin))
    assert moved["total"] == 4
    assert [
        (item["object_id"], item["object_name"], item["field"], item["old_value"], item["new_value"], item["outcome"])
        for item in moved["items"]
    ] == [
        (firms[0], "Cudza 0", "deputy", seller["id"], team[0]["id"], None),
        (firms[1], "Cudza 1", "deputy", seller["id"], team[0]["id"], None),
        (firms[2], "Cudza 2", "planned_owner", seller["id"], team[0]["id"], None),
        (firms[3], "Cudza 3", "deputy", seller["id"], team[0]["id"], None),
    ], "the transfer's items list the periods it handed over"
    assert [holders(firm, "deputy") for firm in firms[:2]] == [[team[0]["id"]]] * 2
    assert holders(firms[2], "primary") == sorted([other_seller["id"], team[0]["id"]])
    # since the transfer, the admin shortened the new deputy's period on the second company
    periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firms[1]}&kind=deputy", admin))[
        "items"
    ]
    [theirs] = [p for p in periods if p["user_id"] == team[0]["id"]]
    created(api.patch(f"/ownership/assignments/{theirs['id']}", admin, json={"valid_to": today(30)}))
    # … and removed it on the fourth
    periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firms[3]}&kind=deputy", admin))[
        "items"
    ]
    [removed] = [p for p in periods if p["user_id"] == team[0]["id"]]
    assert api.delete(f"/ownership/assignments/{removed['id']}", admin).status_code == 204

    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    assert (undone["restored"], undone["kept"]) == (2, 2), (
        "the changed and the removed deputyships are kept, the rest goes back"
    )
    assert [(item["object_id"], item["field"], item["outcome"]) for item in undone["kept_items"]] == [
        (firms[1], "deputy", "changed"),
        (firms[3], "deputy", "deleted"),
    ], "each kept period is listed with the reason"
    kept = created(api.get(f"{TRANSFERS}/{state['id']}/items?kept=true", admin))
    assert [(item["object_id"], item["outcome"]) for item in kept["items"]] == [
        (firms[1], "changed"),
        (firms[3], "deleted"),
    ]
    restored = created(api.get(f"{TRANSFERS}/{state['id']}/items?outcome=restored", admin))
    assert [(item["object_id"], item["field"]) for item in restored["items"]] == [
        (firms[0], "deputy"),
        (firms[2], "planned_owner"),
    ]
    assert holders(firms[0], "deputy") == [seller["id"]]
    assert holders(firms[1], "deputy") == [team[0]["id"]], "changed since the transfer: not overwritten"
    assert holders(firms[2], "primary") == sorted([other_seller["id"], seller["id"]]), "the planned period is his again"
    assert holders(firms[3], "deputy") == [], "a period removed since is not brought back"
    history = created(api.get(f"/audit?object_type=company&object_id={firms[0]}&operation=owner_assigned", admin))[
        "items"
    ]
    assert (history[0]["context"] or {}).get("offboarding_undo_of") == state["id"], "the hand-back is in the history"
    assert api.post(f"{TRANSFERS}/{state['id']}/undo", admin).status_code == 409
    assert holders(firms[0], "deputy") == [seller["id"]], "a refused second undo changes nothing"


def test_undo_reopens_the_deputy_periods_a_transfer_ended(api, admin, seller, other_seller, team):
    firms = {
        user["id"]: created(api.post("/companies", user, json={"name": user["name"]}))["id"]
        for user in (seller, other_seller)
    }
    for (_owner_id, firm), deputy in zip(firms.items(), team, strict=False):
        created(
            api.post(
                "/ownership/assignments",
                admin,
                json={
                    "object_type": "company",
                    "object_ids": [firm],
                    "user_id": deputy["id"],
                    "kind": "deputy",
                    "valid_from": today(-3),
                },
            )
        )
    depart(api, admin, seller)
    depart(api, admin, other_seller)
    promoted = transfer(
        api, admin, {"from_user_id": seller["id"], "to_user_id": team[2]["id"], "options": {"promote_deputies": True}}
    )
    not_kept = transfer(
        api,
        admin,
        {"from_user_id": other_seller["id"], "to_user_id": team[2]["id"], "options": {"deputies_stay": False}},
    )

    def deputies_in_force(firm: int) -> list[int]:
        periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firm}&kind=deputy", admin))[
            "items"
        ]
        return [p["user_id"] for p in periods if p["valid_to"] is None]

    assert owners(api, admin, "/companies", list(firms.values())) == [team[0]["id"], team[2]["id"]]
    assert [deputies_in_force(firm) for firm in firms.values()] == [[], []]

    for state, deputy in ((promoted, team[0]), (not_kept, team[1])):
        items = created(api.get(f"{TRANSFERS}/{state['id']}/items", admin))["items"]
        assert [
            (item["field"], item["old_value"], item["new_value"]) for item in items if item["field"] == "deputy"
        ] == [("deputy", deputy["id"], None)], "the deputy period the transfer ended is one of its items"
        undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
        assert (undone["restored"], undone["kept"]) == (2, 0), "the owner and the ended deputy period"
    assert owners(api, admin, "/companies", list(firms.values())) == [seller["id"], other_seller["id"]]
    assert [deputies_in_force(firm) for firm in firms.values()] == [[team[0]["id"]], [team[1]["id"]]], (
        "the deputies stand in again, with their periods as they were"
    )


def test_undo_makes_again_a_deputy_period_that_began_on_the_transfers_day(api, admin, seller, other_seller, team):
    """An admin names a deputy the day the seller leaves and promotes the deputies at once:
    the deputy period ends on the day it began, so it is deleted; undo makes it again."""
    firms = [created(api.post("/companies", seller, json={"name": f"Jego {n}"}))["id"] for n in range(2)]
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": firms,
                "user_id": team[0]["id"],
                "kind": "deputy",
                "role": "legal",
                "access": "read",
                "valid_from": today(),
                "valid_to": today(60),
            },
        )
    )
    depart(api, admin, seller)
    state = transfer(
        api,
        admin,
        {"from_user_id": seller["id"], "to_user_id": other_seller["id"], "options": {"promote_deputies": True}},
    )

    def deputies(firm: int) -> list[tuple]:
        periods = created(api.get(f"/ownership/assignments?object_type=company&object_id={firm}&kind=deputy", admin))[
            "items"
        ]
        return [(p["user_id"], p["role"], p["access"], p["valid_from"], p["valid_to"]) for p in periods]

    assert owners(api, admin, "/companies", firms) == [team[0]["id"]] * 2
    assert deputies(firms[0]) == [] and deputies(firms[1]) == [], "promoted on the day it began: the period is gone"
    # since the transfer, the admin named the same deputy again on the second company
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={
                "object_type": "company",
                "object_ids": [firms[1]],
                "user_id": team[0]["id"],
                "kind": "deputy",
                "valid_from": today(5),
            },
        )
    )

    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    assert (undone["restored"], undone["kept"]) == (3, 1), (
        "both owners and one deputy period; the other was made anew since"
    )
    assert [(item["object_id"], item["field"], item["outcome"]) for item in undone["kept_items"]] == [
        (firms[1], "deputy", "changed")
    ]
    assert owners(api, admin, "/companies", firms) == [seller["id"]] * 2
    assert deputies(firms[0]) == [(team[0]["id"], "legal", "read", today(), today(60))], "made again as it was"
    assert [period[0] for period in deputies(firms[1])] == [team[0]["id"]], "not doubled"


# --- the rules --------------------------------------------------------------------------------


def test_bad_transfers_are_refused_with_the_field_named_and_nothing_changes(
    app, api, admin, seller, other_seller, team
):
    firm = created(api.post("/companies", seller, json={"name": "Firma"}))["id"]
    departed_colleague = team[2]
    depart(api, admin, departed_colleague)
    active_refusal = api.post(TRANSFERS, admin, json={"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    assert (
        active_refusal.status_code == 422
        and "allow_active" in active_refusal.get_json()["error"]["fields"]["from_user_id"]
    )
    depart(api, admin, seller)

    def refused(body: dict, status: int, field: str) -> None:
        response = api.post(TRANSFERS, admin, json={"from_user_id": seller["id"], **body})
        assert response.status_code == status, (body, response.get_json())
        assert field in response.get_json()["error"]["fields"], (body, response.get_json())

    refused({"to_user_id": departed_colleague["id"]}, 422, "to_user_id")
    refused({"to_user_id": seller["id"]}, 422, "to_user_id")
    refused({"to_user_id": 999_999}, 422, "to_user_id")
    refused({"to_user_id": "dwa"}, 422, "to_user_id")
    refused({"to_user_id": 2**40}, 422, "to_user_id")
    refused({}, 422, "to_user_id")
    refused({"to_user_id": other_seller["id"], "split": [{"user_id": team[0]["id"], "share": 1}]}, 422, "to_user_id")
    refused({"to_user_id": other_seller["id"], "object_types": ["ufo"]}, 422, "object_types")
    refused({"to_user_id": other_seller["id"], "object_types": []}, 422, "object_types")
    refused(
        {"split": [{"user_id": other_seller["id"], "object_types": ["person"]}], "object_types": ["company", "person"]},
        422,
        "split",
    )
    uncovered = api.post(
        TRANSFERS,
        admin,
        json={
            "from_user_id": seller["id"],
            "object_types": ["company", "person"],
            "split": [{"user_id": other_seller["id"], "object_types": ["person"]}],
        },
    )
    assert uncovered.get_json()["error"]["fields"]["split"] == "nobody is given: company", "types by name in the API"
    refused({"split": [{"user_id": other_seller["id"], "object_types": ["company"], "share": 1}]}, 422, "split.0")
    refused({"split": [{"user_id": other_seller["id"], "share": 0}]}, 422, "split.0.share")
    refused(
        {"split": [{"user_id": other_seller["id"], "share": 1}, {"user_id": other_seller["id"], "share": 1}]},
        422,
        "split.1.user_id",
    )
    refused({"split": [{"user_id": departed_colleague["id"], "share": 1}]}, 422, "split.0.user_id")
    refused({"to_user_id": other_seller["id"], "hurry": True}, 422, "hurry")
    unknown_sender = api.post(TRANSFERS, admin, json={"from_user_id": 999_999, "to_user_id": other_seller["id"]})
    assert unknown_sender.status_code == 422 and "from_user_id" in unknown_sender.get_json()["error"]["fields"]
    huge = api.post(
        TRANSFERS,
        admin,
        json={"from_user_id": seller["id"], "split": [{"user_id": other_seller["id"], "share": 1}] * 101},
    )
    assert huge.status_code == 422

    assert count_rows(app, "offboarding_transfers") == 0, "nothing was planned"
    assert owners(api, admin, "/companies", [firm]) == [seller["id"]]


def test_a_second_transfer_of_the_same_user_waits_for_the_first(app, api, admin, seller, other_seller):
    created(api.post("/companies", seller, json={"name": "Firma"}))
    depart(api, admin, seller)
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    with app.app_context():  # as if its worker were still at it
        db.session.execute(text("UPDATE offboarding_transfers SET status = 'running'"))
        db.session.commit()
    again = api.post(
        TRANSFERS, admin, json={"from_user_id": seller["id"], "to_user_id": admin["id"], "object_types": ["company"]}
    )
    assert again.status_code == 409 and again.get_json()["error"]["transfer_id"] == state["id"]
    undo = api.post(f"{TRANSFERS}/{state['id']}/undo", admin)
    assert undo.status_code == 409, "a running transfer cannot be undone"
    resume = api.post(f"{TRANSFERS}/{state['id']}/resume", admin)
    assert resume.status_code == 409, "its worker is alive (recent heartbeat)"
    assert count_rows(app, "offboarding_transfers") == 1


def test_only_admins_and_holders_of_the_permission_see_and_move_items(api, admin, manager, seller, other_seller):
    created(api.post("/companies", seller, json={"name": "Firma"}))
    depart(api, admin, seller)
    body = {"from_user_id": seller["id"], "to_user_id": other_seller["id"]}
    for user in (manager, other_seller):
        assert api.get(PREVIEW.format(seller["id"]), user).status_code == 403
        assert api.post(TRANSFERS, user, json=body).status_code == 403
        assert api.get(TRANSFERS, user).status_code == 403
    assert api.get(PREVIEW.format(seller["id"]), None).status_code == 401
    created(
        api.post("/roles", admin, json={"name": "kadry", "label": "Kadry", "permissions": ["offboarding.transfer"]})
    )
    created(api.patch(f"/users/{manager['id']}", admin, json={"role": "kadry"}))
    api.tokens.clear()
    state = transfer(api, manager, body)
    assert state["status"] == "done" and state["requested_by_id"] == manager["id"]
    assert api.get(f"{TRANSFERS}/{state['id']}", other_seller).status_code == 403


def test_unknown_users_and_transfers_are_404(api, admin):
    assert api.get(PREVIEW.format(999_999), admin).status_code == 404
    assert api.get(PREVIEW.format(2**40), admin).status_code == 404
    assert api.get(f"{TRANSFERS}/999", admin).status_code == 404
    assert api.post(f"{TRANSFERS}/999/undo", admin).status_code == 404
    assert api.post(f"{TRANSFERS}/999/resume", admin).status_code == 404
    assert api.get(f"{TRANSFERS}/999/items", admin).status_code == 404
    assert api.get(f"{TRANSFERS}?status=lost", admin).status_code == 422


def test_transfers_are_listed_newest_first_and_filtered(api, admin, seller, other_seller, team):
    created(api.post("/companies", seller, json={"name": "Firma"}))
    created(api.post("/companies", other_seller, json={"name": "Firma 2"}))
    depart(api, admin, seller)
    depart(api, admin, other_seller)
    first = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": team[0]["id"]})
    second = transfer(api, admin, {"from_user_id": other_seller["id"], "to_user_id": team[0]["id"]})
    listed = created(api.get(TRANSFERS, admin))
    assert [item["id"] for item in listed["items"]] == [second["id"], first["id"]]
    mine = created(api.get(f"{TRANSFERS}?from_user_id={seller['id']}&status=done", admin))
    assert [item["id"] for item in mine["items"]] == [first["id"]] and mine["items"][0]["moved"] == 1
    items = created(api.get(f"{TRANSFERS}/{first['id']}/items", admin))
    assert [(item["object_type"], item["field"], item["old_value"], item["new_value"]) for item in items["items"]] == [
        ("company", "owner_id", seller["id"], team[0]["id"])
    ]


def test_every_offboarding_route_is_in_the_openapi_document(api):
    paths = api.http.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/offboarding/{user_id}/preview",
        "/api/v1/offboarding/transfers",
        "/api/v1/offboarding/transfers/{transfer_id}",
        "/api/v1/offboarding/transfers/{transfer_id}/undo",
        "/api/v1/offboarding/transfers/{transfer_id}/resume",
        "/api/v1/offboarding/transfers/{transfer_id}/items",
    ):
        assert path in paths, path
