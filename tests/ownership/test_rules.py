"""Ownership's rules over HTTP: bad input is a clear 4xx that changes nothing, settings per
record type (owner required, release after inactivity, who may change owners), the change
stream sees every owner change, and offboarding can count and move assignments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from opiekun import local_time
from opiekun.extensions import db
from opiekun.models import Company, utcnow
from opiekun.testing.apps import build_app
from opiekun.testing.clients import ApiClient
from opiekun.testing.plugins import ChangeRecorder
from tests.ownership.support import day

A = "/ownership/assignments"


def company(api, user, name="Stal-Bud", **fields) -> dict:
    response = api.post("/companies", user, json={"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assignment_count(api, user) -> int:
    return api.get(A, user).get_json()["total"]


# --- bad input: a clear 4xx naming the problem, nothing changed ---------------------------------


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"user_id": 999_999}, 422, "user_id"),
        ({"valid_from": "2030-05-10", "valid_to": "2030-05-09"}, 422, "valid_to"),
        ({"kind": "boss"}, 422, "kind"),
        ({"role": "astrologer"}, 422, "role"),
        ({"on_overlap": "sometimes"}, 422, "on_overlap"),
        ({"access": "admin"}, 422, "access"),
        ({"object_type": "spaceship"}, 422, "object_type"),
        ({"object_ids": [999_999]}, 404, "object_ids"),
        ({"object_ids": []}, 422, "object_ids"),
        ({"object_ids": list(range(1, 10_002))}, 422, "object_ids"),
        ({"filter": {"owner_id": "1"}}, 422, "body"),
        ({"object_ids": None, "filter": {"colour": "red"}}, 422, "filter.colour"),
        ({"object_ids": None, "filter": {"owner_id": "9999999999"}}, 422, "filter.owner_id"),
        ({"valid_from": "not-a-date"}, 422, "valid_from"),
    ],
)
def test_bad_assignment_requests_are_refused_and_change_nothing(api, seller, change, status, field):
    firm = company(api, seller)
    before = assignment_count(api, seller)
    body = {
        "object_type": "company",
        "object_ids": [firm["id"]],
        "user_id": seller["id"],
        "on_overlap": "replace",
        **change,
    }
    body = {key: value for key, value in body.items() if value is not None}
    response = api.post(A, seller, json=body)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert any(name.startswith(field) for name in error["fields"]), error
    assert assignment_count(api, seller) == before


def test_a_departed_user_cannot_become_owner(api, admin, seller, other_seller):
    firm = company(api, seller)
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200
    response = api.post(
        A,
        seller,
        json={
            "object_type": "company",
            "object_ids": [firm["id"]],
            "user_id": other_seller["id"],
            "on_overlap": "replace",
        },
    )
    assert response.status_code == 422 and "departed" in response.get_json()["error"]["fields"]["user_id"]
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["owner_id"] == seller["id"]


def test_records_the_caller_may_not_change_refuse_the_whole_bulk_request(api, seller, other_seller):
    mine = company(api, seller, "Moja")
    theirs = company(api, other_seller, "Cudza")
    response = api.post(
        A,
        seller,
        json={
            "object_type": "company",
            "object_ids": [mine["id"], theirs["id"]],
            "user_id": seller["id"],
            "on_overlap": "replace",
        },
    )
    assert response.status_code == 403 and str(theirs["id"]) in response.get_json()["error"]["fields"]["object_ids"]
    assert api.get(f"/companies/{theirs['id']}", seller).get_json()["owner_id"] == other_seller["id"]
    # the same by filter: the other seller's record is among the matches
    response = api.post(
        A, seller, json={"object_type": "company", "filter": {}, "user_id": seller["id"], "on_overlap": "replace"}
    )
    assert response.status_code == 403


def test_unknown_ids_in_paths_and_queries_are_404_or_422(api, seller):
    assert api.get(f"{A}/424242", seller).status_code == 404
    assert api.patch(f"{A}/424242", seller, json={"role": "legal"}).status_code == 404
    assert api.delete(f"{A}/424242", seller).status_code == 404
    assert api.get("/ownership/owner?object_type=company&object_id=424242", seller).status_code == 404
    assert api.get("/ownership/owner?object_type=spaceship&object_id=1", seller).status_code == 422
    assert api.get("/ownership/settings/spaceship", seller).status_code == 404
    assert api.get("/ownership/portfolio?user_id=424242", seller).status_code == 404


# --- settings per record type (admins only) -----------------------------------------------------


def test_settings_are_for_admins_and_default_to_owner_optional_and_everyone_may_change(api, admin, seller):
    defaults = api.get("/ownership/settings/company", seller).get_json()
    assert defaults == {
        "object_type": "company",
        "owner_required": False,
        "inactivity_days": None,
        "change_roles": None,
    }
    assert api.patch("/ownership/settings/company", seller, json={"owner_required": True}).status_code == 403
    answer = api.patch(
        "/ownership/settings/company",
        admin,
        json={"owner_required": True, "inactivity_days": 30, "change_roles": ["manager"]},
    )
    assert answer.status_code == 200 and answer.get_json()["change_roles"] == ["manager"]
    assert api.patch("/ownership/settings/company", admin, json={"change_roles": ["wizard"]}).status_code == 422
    assert api.patch("/ownership/settings/company", admin, json={"inactivity_days": 0}).status_code == 422
    listed = api.get("/ownership/settings", seller).get_json()
    assert {item["object_type"] for item in listed["items"]} >= {
        "company",
        "person",
        "lead",
        "deal",
        "offer",
        "invoice",
        "contract",
    }


def test_owner_required_refuses_a_record_without_owner_naming_owner_id(api, admin, seller):
    api.patch("/ownership/settings/deal", admin, json={"owner_required": True})
    response = api.post("/pipelines", admin, json={"name": "P", "stages": [{"name": "Start"}]})
    assert response.status_code == 201
    refused = api.post("/deals", seller, json={"name": "Bez opiekuna", "owner_id": None})
    assert refused.status_code == 422 and "owner_id" in refused.get_json()["error"]["fields"]
    deal = api.post("/deals", seller, json={"name": "Z opiekunem"}).get_json()
    assert api.patch(f"/deals/{deal['id']}", seller, json={"owner_id": None}).status_code == 422
    # other types are not affected
    assert api.post("/companies", seller, json={"name": "Wolna", "owner_id": None}).status_code == 201
    # the owner in force cannot be deleted either
    [period] = api.get(f"{A}?object_type=deal&object_id={deal['id']}", seller).get_json()["items"]
    assert api.delete(f"{A}/{period['id']}", seller).status_code == 409


def test_only_the_roles_chosen_may_change_owners_everywhere(api, admin, manager, seller, other_seller):
    firm = company(api, seller)
    api.patch("/ownership/settings/company", admin, json={"change_roles": ["manager"]})
    assert api.patch(f"/companies/{firm['id']}", seller, json={"owner_id": other_seller["id"]}).status_code == 403
    assert (
        api.post(
            A,
            seller,
            json={
                "object_type": "company",
                "object_ids": [firm["id"]],
                "user_id": other_seller["id"],
                "on_overlap": "replace",
            },
        ).status_code
        == 403
    )
    [period] = api.get(f"{A}?object_type=company&object_id={firm['id']}", seller).get_json()["items"]
    assert api.delete(f"{A}/{period['id']}", seller).status_code == 403
    # other changes of the record stay allowed
    assert api.patch(f"/companies/{firm['id']}", seller, json={"city": "Gdańsk"}).status_code == 200
    assert api.patch(f"/companies/{firm['id']}", manager, json={"owner_id": other_seller["id"]}).status_code == 200
    assert api.patch(f"/companies/{firm['id']}", admin, json={"owner_id": seller["id"]}).status_code == 200


def test_owner_roles_are_a_configurable_list(api, admin, seller):
    assert api.get("/ownership/options", seller).get_json()["roles"][0] == "sales"
    assert api.patch("/ownership/options", seller, json={"roles": ["key_account"]}).status_code == 403
    answer = api.patch("/ownership/options", admin, json={"roles": ["key_account", "legal"], "show_departed": False})
    assert answer.get_json() == {"roles": ["key_account", "legal"], "show_departed": False}
    firm = company(api, seller)
    assert (
        api.post(
            A,
            seller,
            json={
                "object_type": "company",
                "object_ids": [firm["id"]],
                "user_id": seller["id"],
                "role": "sales",
                "kind": "deputy",
            },
        ).status_code
        == 422
    )
    assert (
        api.post(
            A,
            seller,
            json={
                "object_type": "company",
                "object_ids": [firm["id"]],
                "user_id": seller["id"],
                "role": "legal",
                "kind": "deputy",
            },
        ).status_code
        == 201
    )


# --- release after inactivity ------------------------------------------------------------------


def test_owners_of_inactive_records_are_released_and_told(app, api, admin, seller):
    from opiekun.plugins.ownership.jobs import release_inactive
    from opiekun.plugins.ownership.models import OwnerAssignment

    api.patch("/ownership/settings/company", admin, json={"inactivity_days": 30})
    stale = company(api, seller, "Zaniedbana")
    fresh = company(api, seller, "Aktywna")
    with app.app_context():
        db.session.execute(
            update(Company).where(Company.id == stale["id"]).values(updated_at=utcnow() - dt.timedelta(days=31))
        )
        db.session.execute(
            update(OwnerAssignment).values(
                created_at=utcnow() - dt.timedelta(days=31), valid_from=local_time.today() - dt.timedelta(days=40)
            )
        )
        db.session.commit()
    with app.app_context():
        assert release_inactive()["released"] == {"company": 1}
        db.session.commit()
        assert release_inactive()["released"] == {"company": 0}, "running it again changes nothing"
        db.session.commit()
    assert api.get(f"/companies/{stale['id']}", seller).get_json()["owner_id"] is None
    assert api.get(f"/companies/{fresh['id']}", seller).get_json()["owner_id"] == seller["id"]
    [notice] = api.get("/notifications", seller).get_json()["items"]
    assert (
        notice["kind"] == "ownership.released"
        and notice["object_id"] == stale["id"]
        and "Zaniedbana" in notice["message"]
    )
    periods = api.get(f"{A}?object_type=company&object_id={stale['id']}", seller).get_json()["items"]
    assert [(p["user_id"], p["valid_to"]) for p in periods] == [(seller["id"], day(-1))]


# --- the change stream sees every ownership change -----------------------------------------------


def test_every_owner_change_reaches_the_change_stream_with_old_and_new_owner(tmp_path, fresh_database):
    recorder = ChangeRecorder()
    app = build_app(tmp_path, fresh_database.url(), plugins=("ownership", "recorder"), extra_plugins=[recorder.module])
    api = ApiClient(app)
    seller = api.create_user("s@firma.example")
    other = api.create_user("o@firma.example")
    ids = [company(api, seller, f"F{n}")["id"] for n in range(3)]
    recorder.clear()
    response = api.post(
        A, seller, json={"object_type": "company", "object_ids": ids, "user_id": other["id"], "on_overlap": "replace"}
    )
    assert response.status_code == 201
    owner_rows = {(row[1], row[3], row[4], row[5]) for row in recorder.bulk_rows if row[3] == "owner_id"}
    assert owner_rows == {(object_id, "owner_id", str(seller["id"]), str(other["id"])) for object_id in ids}
    assert [change_set.actor.user_id for change_set in recorder.change_sets] == [seller["id"]]
    assert not [row for row in recorder.bulk_rows if row[3] == "user_id"], (
        "a period that changes today's owner is told by the owner change alone (one history entry)"
    )

    recorder.clear()
    later = api.post(
        A,
        other,
        json={
            "object_type": "company",
            "object_ids": ids,
            "user_id": seller["id"],
            "valid_from": day(30),
            "on_overlap": "replace",
        },
    )
    assert later.status_code == 201, later.get_json()
    assert [bulk.operation for change_set in recorder.change_sets for bulk in change_set.bulk] == ["owner_assigned"]
    assert {(row[1], row[5]) for row in recorder.bulk_rows if row[3] == "user_id"} == {
        (i, str(seller["id"])) for i in ids
    }, "a planned period changes no owner today: its own event tells it"

    recorder.clear()
    [period] = [
        p
        for p in api.get(f"{A}?object_id={ids[0]}&object_type=company", other).get_json()["items"]
        if p["user_id"] == other["id"]
    ]
    api.patch(f"{A}/{period['id']}", other, json={"role": "legal"})
    assert [c.operation for c in recorder.records()] == ["owner_assignment_changed"]
    with app.app_context():
        db.engine.dispose()


# --- offboarding: what a user holds through ownership, and moving it ------------------------------


def test_offboarding_counts_and_moves_deputy_and_planned_periods(app, api, seller, other_seller, manager):
    firm = company(api, manager)
    api.post(
        A,
        manager,
        json={
            "object_type": "company",
            "object_ids": [firm["id"]],
            "user_id": seller["id"],
            "kind": "deputy",
            "valid_from": day(-5),
        },
    )
    later = company(api, manager, "Później")
    api.post(
        A,
        manager,
        json={
            "object_type": "company",
            "object_ids": [later["id"]],
            "user_id": seller["id"],
            "valid_from": day(10),
            "on_overlap": "replace",
        },
    )
    from opiekun.user_items import TransferRequest

    with app.app_context():
        host = app.extensions["opiekun.plugins"]
        items = {(item.object_type, item.kind): item.open for item in host.user_items(seller["id"], True)}
        assert items[("company", "deputy")] == 1 and items[("company", "planned_owner")] == 1
        request = TransferRequest(seller["id"], other_seller["id"], frozenset({"company"}))
        host.transfer_user_items(db.session, request)
        db.session.commit()
        host.transfer_user_items(db.session, request)  # idempotent
        db.session.commit()
    deputies = api.get(f"{A}?object_type=company&object_id={firm['id']}&kind=deputy", manager).get_json()["items"]
    assert [(d["user_id"], d["valid_from"], d["valid_to"]) for d in deputies] == [
        (seller["id"], day(-5), day(-1)),
        (other_seller["id"], day(), None),
    ]
    planned = api.get(f"{A}?object_type=company&object_id={later['id']}&at={day(10)}", manager).get_json()["items"]
    assert [p["user_id"] for p in planned] == [other_seller["id"]]


def test_every_ownership_route_is_in_the_openapi_document(api):
    paths = api.http.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/ownership/settings/{object_type}",
        "/api/v1/ownership/assignments",
        "/api/v1/ownership/assignments/{assignment_id}",
        "/api/v1/ownership/owner",
        "/api/v1/ownership/portfolio",
    ):
        assert path in paths, path
