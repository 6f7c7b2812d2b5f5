"""Owners of records over HTTP, as Livespace and enova365 users know them: the creator owns a
new record, owners change one at a time or in bulk (by ids or by the list's filter), periods
with dates, kinds, roles and an overlap policy, and "who owned it on day D"."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from opiekun.extensions import db
from tests.ownership.support import day

ASSIGNMENTS = "/ownership/assignments"


def company(api, user, name="Stal-Bud", **fields) -> dict:
    response = api.post("/companies", user, json={"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def owner_of(api, user, object_id, at=None, object_type="company") -> dict:
    query = f"/ownership/owner?object_type={object_type}&object_id={object_id}" + (f"&at={at}" if at else "")
    response = api.get(query, user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def periods(api, user, object_id, object_type="company") -> list[tuple]:
    items = api.get(f"{ASSIGNMENTS}?object_type={object_type}&object_id={object_id}&per_page=500", user).get_json()[
        "items"
    ]
    return [(item["user_id"], item["kind"], item["valid_from"], item["valid_to"]) for item in items]


def assign(api, user, **body):
    body.setdefault("object_type", "company")
    return api.post(ASSIGNMENTS, user, json=body)


# --- the creator owns a new record; owner_id equals today's primary --------------------------


def test_a_new_record_is_owned_by_its_creator_with_an_open_ended_primary_period(api, seller):
    firm = company(api, seller)
    assert firm["owner_id"] == seller["id"]
    assert periods(api, seller, firm["id"]) == [(seller["id"], "primary", day(), None)]
    answer = owner_of(api, seller, firm["id"])
    assert answer["owner_id"] == seller["id"] and answer["primary"]["role"] == "sales" and answer["deputies"] == []
    assert owner_of(api, seller, firm["id"], at=day(-1))["primary"] is None


def test_changing_the_owner_in_the_record_ends_the_current_period_and_starts_a_new_one(
    api, seller, other_seller, manager
):
    firm = company(api, seller)
    # the record has been the seller's for a month
    assert (
        assign(
            api, seller, object_ids=[firm["id"]], user_id=seller["id"], valid_from=day(-30), on_overlap="replace"
        ).status_code
        == 201
    )
    assert periods(api, seller, firm["id"]) == [(seller["id"], "primary", day(-30), None)]

    response = api.patch(f"/companies/{firm['id']}", seller, json={"owner_id": other_seller["id"]})
    assert response.status_code == 200 and response.get_json()["owner_id"] == other_seller["id"]
    assert periods(api, seller, firm["id"]) == [
        (seller["id"], "primary", day(-30), day(-1)),
        (other_seller["id"], "primary", day(), None),
    ]
    assert owner_of(api, seller, firm["id"], at=day(-1))["owner_id"] == seller["id"]
    assert owner_of(api, seller, firm["id"])["owner_id"] == other_seller["id"]

    # a second change the same day replaces today's period instead of stacking one-day periods
    api.patch(f"/companies/{firm['id']}", manager, json={"owner_id": manager["id"]})
    assert periods(api, manager, firm["id"]) == [
        (seller["id"], "primary", day(-30), day(-1)),
        (manager["id"], "primary", day(), None),
    ]

    # removing the owner (Livespace's "no owner") ends the period; nobody owns it today
    api.patch(f"/companies/{firm['id']}", manager, json={"owner_id": None})
    assert owner_of(api, manager, firm["id"])["primary"] is None
    assert api.get(f"/companies/{firm['id']}", manager).get_json()["owner_id"] is None


# --- bulk: by ids and by the list's filter ------------------------------------------------------


def test_bulk_owner_change_by_ids_is_immediate_and_keeps_history(api, seller, other_seller):
    firms = [company(api, seller, f"Firma {n}") for n in range(3)]
    response = assign(
        api,
        seller,
        object_ids=[firm["id"] for firm in firms],
        user_id=other_seller["id"],
        valid_from=day(),
        on_overlap="replace",
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "object_type": "company",
        "matched": 3,
        "created": 3,
        "skipped": 0,
        "replaced": 3,
        "unchanged": 0,
    }
    listed = api.get(f"/companies?owner_id={other_seller['id']}", seller).get_json()
    assert listed["total"] == 3
    # periods that began today give way to the new one (one primary per record per day)
    assert periods(api, seller, firms[0]["id"]) == [(other_seller["id"], "primary", day(), None)]


def test_bulk_owner_change_by_filter_covers_every_page_not_only_the_visible_one(api, manager, seller, other_seller):
    for n in range(60):
        company(api, seller, f"Hurt {n}")
    company(api, other_seller, "Cudza")
    response = assign(api, manager, filter={"owner_id": str(seller["id"])}, user_id=manager["id"], on_overlap="replace")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["matched"] == 60 and response.get_json()["created"] == 60
    assert api.get(f"/companies?owner_id={manager['id']}", manager).get_json()["total"] == 60
    assert api.get(f"/companies?owner_id={other_seller['id']}", manager).get_json()["total"] == 1


def test_a_filter_that_matches_nothing_changes_nothing(api, manager):
    response = assign(api, manager, filter={"q": "nikt-taki"}, user_id=manager["id"], on_overlap="replace")
    assert response.status_code == 201 and response.get_json()["matched"] == 0


# --- overlap policies -------------------------------------------------------------------------


def test_warn_answers_409_listing_the_conflicts_and_changes_nothing(api, seller, other_seller):
    firms = [company(api, seller, f"Firma {n}") for n in range(2)]
    free = company(api, seller, "Bez opiekuna", owner_id=None)
    response = assign(
        api,
        seller,
        object_ids=[firms[0]["id"], firms[1]["id"], free["id"]],
        user_id=other_seller["id"],
        valid_from=day(5),
        on_overlap="warn",
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["conflict_count"] == 2 and "on_overlap" in error["fields"]
    assert sorted(conflict["object_id"] for conflict in error["conflicts"]) == sorted(firm["id"] for firm in firms)
    assert periods(api, seller, free["id"]) == [], "all or nothing: the record without conflict was not assigned either"
    assert periods(api, seller, firms[0]["id"]) == [(seller["id"], "primary", day(), None)]


def test_keep_leaves_records_that_already_have_an_owner_in_that_period(api, seller, other_seller):
    owned = company(api, seller, "Ma opiekuna")
    free = company(api, seller, "Bez opiekuna", owner_id=None)
    response = assign(api, seller, object_ids=[owned["id"], free["id"]], user_id=other_seller["id"], on_overlap="keep")
    assert response.get_json() == {
        "object_type": "company",
        "matched": 2,
        "created": 1,
        "skipped": 1,
        "replaced": 0,
        "unchanged": 0,
    }
    assert api.get(f"/companies/{owned['id']}", seller).get_json()["owner_id"] == seller["id"]
    assert api.get(f"/companies/{free['id']}", seller).get_json()["owner_id"] == other_seller["id"]


def test_replace_ends_the_earlier_period_the_day_before_and_a_future_period_waits_for_its_day(
    app, api, seller, other_seller
):
    firm = company(api, seller)
    assign(api, seller, object_ids=[firm["id"]], user_id=seller["id"], valid_from=day(-10), on_overlap="replace")
    response = assign(
        api, seller, object_ids=[firm["id"]], user_id=other_seller["id"], valid_from=day(7), on_overlap="replace"
    )
    assert response.get_json()["replaced"] == 1
    assert periods(api, seller, firm["id"]) == [
        (seller["id"], "primary", day(-10), day(6)),
        (other_seller["id"], "primary", day(7), None),
    ]
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == seller["id"], "not before its day"
    assert owner_of(api, seller, firm["id"], at=day(7))["owner_id"] == other_seller["id"]

    # on the day the period starts, the daily job makes it the record's owner
    from opiekun.plugins.ownership.jobs import apply_periods

    with app.app_context():
        result = apply_periods(day(7))
        db.session.commit()
    assert result["changed"]["company"] == 1
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == other_seller["id"]


def test_a_bounded_period_inside_an_indefinite_one_with_replace(api, seller, other_seller):
    firm = company(api, seller)
    assign(api, seller, object_ids=[firm["id"]], user_id=seller["id"], valid_from=day(-10), on_overlap="replace")
    assign(
        api,
        seller,
        object_ids=[firm["id"]],
        user_id=other_seller["id"],
        valid_from=day(-3),
        valid_to=day(3),
        on_overlap="replace",
    )
    assert periods(api, seller, firm["id"]) == [
        (seller["id"], "primary", day(-10), day(-4)),
        (other_seller["id"], "primary", day(-3), day(3)),
    ]
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == other_seller["id"]


# --- date edges ---------------------------------------------------------------------------------


def test_a_period_starting_today_takes_effect_at_once(api, seller, other_seller):
    firm = company(api, seller, owner_id=None)
    response = assign(
        api, seller, object_ids=[firm["id"]], user_id=other_seller["id"], valid_from=day(), on_overlap="warn"
    )
    assert response.status_code == 201
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == other_seller["id"]


def test_a_period_that_ended_yesterday_is_history_only(app, api, seller, other_seller):
    firm = company(api, seller, owner_id=None)
    response = assign(
        api,
        seller,
        object_ids=[firm["id"]],
        user_id=other_seller["id"],
        valid_from=day(-10),
        valid_to=day(-1),
        on_overlap="warn",
    )
    assert response.status_code == 201
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] is None
    assert owner_of(api, seller, firm["id"], at=day(-1))["owner_id"] == other_seller["id"]
    assert owner_of(api, seller, firm["id"], at=day(-11))["owner_id"] is None


def test_a_period_ending_today_stops_at_midnight(app, api, seller, other_seller):
    firm = company(api, seller, owner_id=None)
    assign(api, seller, object_ids=[firm["id"]], user_id=other_seller["id"], valid_to=day(), on_overlap="warn")
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == other_seller["id"]
    from opiekun.plugins.ownership.jobs import apply_periods

    with app.app_context():
        apply_periods(day(1))
        db.session.commit()
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] is None


def test_an_indefinite_period_has_no_end(api, seller):
    firm = company(api, seller)
    assert owner_of(api, seller, firm["id"], at="2999-12-31")["owner_id"] == seller["id"]


# --- deputies -------------------------------------------------------------------------------


def test_a_deputy_stands_in_with_the_access_given(api, seller, other_seller, admin):
    firm = company(api, seller)
    response = assign(
        api,
        seller,
        object_ids=[firm["id"]],
        user_id=other_seller["id"],
        kind="deputy",
        role="service",
        access="read",
        valid_to=day(14),
    )
    assert response.status_code == 201, response.get_json()
    answer = owner_of(api, seller, firm["id"])
    assert answer["owner_id"] == seller["id"] and [d["user_id"] for d in answer["deputies"]] == [other_seller["id"]]
    assert api.patch(f"/companies/{firm['id']}", other_seller, json={"city": "Kraków"}).status_code == 403

    [deputyship] = list(api.get(f"{ASSIGNMENTS}?kind=deputy", admin).get_json()["items"])
    assert api.patch(f"{ASSIGNMENTS}/{deputyship['id']}", seller, json={"access": "write"}).status_code == 200
    assert api.patch(f"/companies/{firm['id']}", other_seller, json={"city": "Kraków"}).status_code == 200
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == seller["id"], (
        "a deputy does not become owner"
    )


def test_several_deputies_may_share_a_period(api, seller, other_seller, manager):
    firm = company(api, seller)
    for deputy in (other_seller, manager):
        assert assign(api, seller, object_ids=[firm["id"]], user_id=deputy["id"], kind="deputy").status_code == 201
    assert len(owner_of(api, seller, firm["id"])["deputies"]) == 2


def test_a_deputy_without_a_primary_owner_in_that_period_is_refused(api, seller, other_seller):
    free = company(api, seller, owner_id=None)
    response = assign(api, seller, object_ids=[free["id"]], user_id=other_seller["id"], kind="deputy")
    assert response.status_code == 422 and "kind" in response.get_json()["error"]["fields"]
    assert periods(api, seller, free["id"]) == []


# --- one assignment: change and remove -----------------------------------------------------------


def test_an_assignment_can_be_changed_and_removed_with_the_owner_kept_in_sync(api, seller, other_seller):
    firm = company(api, seller)
    [period] = api.get(f"{ASSIGNMENTS}?object_type=company&object_id={firm['id']}", seller).get_json()["items"]
    response = api.patch(f"{ASSIGNMENTS}/{period['id']}", seller, json={"user_id": other_seller["id"], "role": "legal"})
    assert response.status_code == 200 and response.get_json()["role"] == "legal"
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == other_seller["id"]

    reversed_period = api.patch(f"{ASSIGNMENTS}/{period['id']}", other_seller, json={"valid_to": day(-5)})
    assert reversed_period.status_code == 422 and "valid_to" in reversed_period.get_json()["error"]["fields"]

    assert api.delete(f"{ASSIGNMENTS}/{period['id']}", other_seller).status_code == 204
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] is None
    assert api.get(f"{ASSIGNMENTS}/{period['id']}", seller).status_code == 404


def test_a_changed_period_may_not_overlap_another_primary_period(api, seller, other_seller):
    firm = company(api, seller)
    assign(api, seller, object_ids=[firm["id"]], user_id=other_seller["id"], valid_from=day(10), on_overlap="replace")
    first, second = api.get(f"{ASSIGNMENTS}?object_type=company&object_id={firm['id']}", seller).get_json()["items"]
    response = api.patch(f"{ASSIGNMENTS}/{first['id']}", seller, json={"valid_to": day(20)})
    assert response.status_code == 409 and "valid_from" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {
            "valid_to": 0,
            "valid_from": None,
            "access": None,
            "role": None,
            "user_id": None,
        },  # schemathesis' coverage phase
        {"user_id": None},
        {"role": None},
        {"access": None},
        {"valid_from": None},
    ],
    ids=["all-null", "user_id", "role", "access", "valid_from"],
)
def test_a_change_may_not_empty_a_field_every_period_needs(api, seller, body):
    firm = company(api, seller)
    [period] = api.get(f"{ASSIGNMENTS}?object_type=company&object_id={firm['id']}", seller).get_json()["items"]
    response = api.patch(f"{ASSIGNMENTS}/{period['id']}", seller, json=body)
    assert response.status_code == 422, response.get_json()
    nulls = {field for field, value in body.items() if value is None}
    assert set(response.get_json()["error"]["fields"]) == nulls
    assert api.get(f"{ASSIGNMENTS}/{period['id']}", seller).get_json() == period


def test_deleting_a_record_removes_its_periods(api, seller):
    firm = company(api, seller)
    assert api.delete(f"/companies/{firm['id']}", seller).status_code == 204
    assert periods(api, seller, firm["id"]) == []


# --- partners' record types ----------------------------------------------------------------------


def test_a_partner_record_type_gets_owners_like_the_built_in_ones(api, seller, other_seller):
    firm = company(api, seller)
    contract = api.post(
        "/contracts", seller, json={"name": "Serwis", "company_id": firm["id"], "start_date": day()}
    ).get_json()
    assert periods(api, seller, contract["id"], "contract") == [(seller["id"], "primary", day(), None)]
    response = assign(
        api,
        seller,
        object_type="contract",
        object_ids=[contract["id"]],
        user_id=other_seller["id"],
        on_overlap="replace",
    )
    assert response.status_code == 201
    assert api.get(f"/contracts/{contract['id']}", seller).get_json()["owner_id"] == other_seller["id"]


# --- "records by owner" (portfolio) ----------------------------------------------------------------


def test_the_portfolio_lists_what_a_user_owned_in_a_period(api, seller, other_seller, manager):
    mine = company(api, seller, "Moja")
    theirs = company(api, other_seller, "Ich")
    assign(
        api,
        manager,
        object_ids=[theirs["id"]],
        user_id=seller["id"],
        valid_from=day(-20),
        valid_to=day(-10),
        on_overlap="replace",
    )
    api.patch(f"/companies/{theirs['id']}", manager, json={"owner_id": other_seller["id"]})
    answer = api.get(f"/ownership/portfolio?user_id={seller['id']}&from={day(-15)}&to={day(-12)}", manager).get_json()
    assert [(item["object_name"], item["valid_to"]) for item in answer["items"]] == [("Ich", day(-10))]
    today = api.get(f"/ownership/portfolio?user_id={seller['id']}", manager).get_json()
    assert [item["object_id"] for item in today["items"]] == [mine["id"]]
    assert api.get(f"/ownership/portfolio?user_id={seller['id']}&from={day()}&to={day(-1)}", manager).status_code == 422


# --- the database itself forbids overlapping primary periods -----------------------------------


def _raw_period(firm_id: int, user_id: int, kind: str, first: int, last: int | None) -> None:
    """A period written around the services (as a migration script or a careless partner would)."""
    to = "NULL" if last is None else f"'{day(last)}'"
    db.session.execute(
        text(
            "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, created_at) "
            f"VALUES ('company', {firm_id}, {user_id}, '{kind}', 'sales', '{day(first)}', {to}, 'write', CURRENT_TIMESTAMP)"
        )
    )


def test_the_database_refuses_overlapping_primary_periods_itself(app, api, seller, manager):
    firm = company(api, seller)  # primary period of the seller from today, indefinite
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        for first, last in ((3, None), (3, 5), (-10, 0), (-10, None)):
            with pytest.raises(
                IntegrityError,
                match="ownership_no_overlapping_primary|ux_ownership_one_open_primary|UNIQUE constraint failed: ownership_assignments",
            ):
                _raw_period(firm["id"], manager["id"], "primary", first, last)
            db.session.rollback()
        with pytest.raises(IntegrityError, match="ownership_no_overlapping_primary"):  # a change into an overlap
            _raw_period(firm["id"], manager["id"], "primary", -10, -5)
            db.session.execute(
                text(
                    f"UPDATE ownership_assignments SET valid_to = '{day(2)}' "
                    f"WHERE object_id = {firm['id']} AND valid_from = '{day(-10)}'"
                )
            )
        db.session.rollback()
        other_firm = company(api, seller)
        for period, change in (  # an UPDATE that makes a period primary or moves its start is checked
            ((firm["id"], "deputy", -5, 5), "kind = 'primary'"),
            ((firm["id"], "primary", -10, -1), f"valid_from = '{day(-12)}', valid_to = '{day(1)}'"),
        ):
            with pytest.raises(IntegrityError, match="ownership_no_overlapping_primary"):
                _raw_period(period[0], manager["id"], *period[1:])
                db.session.execute(
                    text(
                        f"UPDATE ownership_assignments SET {change} "
                        f"WHERE object_id = {period[0]} AND valid_from = '{day(period[2])}'"
                    )
                )
            db.session.rollback()
        with pytest.raises(IntegrityError, match="ownership_no_overlapping_primary"):  # the same days, another record
            _raw_period(firm["id"], manager["id"], "primary", -30, -15)
            _raw_period(other_firm["id"], manager["id"], "primary", -20, -10)
            db.session.execute(
                text(
                    f"UPDATE ownership_assignments SET object_id = {firm['id']} WHERE object_id = {other_firm['id']} AND valid_from = '{day(-20)}'"
                )
            )
        db.session.rollback()
        # shortening periods (as every owner change ends the one in force) is never an overlap
        db.session.execute(
            text(f"UPDATE ownership_assignments SET valid_to = '{day(5)}' WHERE object_id = {firm['id']}")
        )
        _raw_period(firm["id"], manager["id"], "primary", 6, None)
        db.session.rollback()
        _raw_period(firm["id"], manager["id"], "primary", -10, -1)  # ends the day before: fine
        _raw_period(firm["id"], manager["id"], "deputy", 0, None)  # deputies may overlap
        db.session.rollback()
    periods = api.get(f"/ownership/assignments?object_type=company&object_id={firm['id']}", manager).get_json()["items"]
    assert [(period["kind"], period["valid_from"], period["valid_to"]) for period in periods] == [
        ("primary", day(), None)
    ]


# --- asking for what is already so changes nothing ----------------------------------------------


def test_a_different_role_access_or_a_longer_period_is_a_change(api, admin, seller, other_seller):
    firm = company(api, seller)
    limited = assign(
        api, admin, object_ids=[firm["id"]], user_id=other_seller["id"], valid_to=day(30), on_overlap="replace"
    )
    assert limited.get_json()["created"] == 1
    longer = assign(api, admin, object_ids=[firm["id"]], user_id=other_seller["id"], on_overlap="replace")
    assert (longer.get_json()["created"], longer.get_json()["unchanged"]) == (1, 0)
    other_role = assign(
        api, admin, object_ids=[firm["id"]], user_id=other_seller["id"], role="service", on_overlap="replace"
    )
    assert (other_role.get_json()["created"], other_role.get_json()["unchanged"]) == (1, 0)
    again = assign(api, admin, object_ids=[firm["id"]], user_id=other_seller["id"], role="service", on_overlap="warn")
    assert again.status_code == 201 and again.get_json()["unchanged"] == 1, again.get_json()
