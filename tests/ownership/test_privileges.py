"""Who may choose a record's owner (issue 14): the ownership setting ``change_roles`` holds
on create as on update (choosing oneself stays allowed), and a deputy edits the record it
stands in for but does not take it over or delete it — over the API and in the admin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.clients import flashed, logged_in
from tests.ownership.support import ACTION, day, submit_form

ASSIGNMENTS = "/ownership/assignments"


def company(api, user, name="Stal-Bud", **fields) -> dict:
    response = api.post("/companies", user, json={"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def owners(app) -> dict[str, int | None]:
    with app.app_context():
        return {firm.name: firm.owner_id for firm in db.session.scalars(select(Company))}


def periods(api, user, object_id: int) -> list[tuple]:
    items = api.get(f"{ASSIGNMENTS}?object_type=company&object_id={object_id}", user).get_json()["items"]
    return sorted(
        (item["user_id"], item["kind"], item["access"], item["valid_from"], item["valid_to"]) for item in items
    )


@pytest.fixture
def only_managers_change_owners(api, admin) -> None:
    assert api.patch("/ownership/settings/company", admin, json={"change_roles": ["manager"]}).status_code == 200


# --- change_roles holds on create -------------------------------------------------------------------


def test_a_role_that_may_not_change_owners_cannot_create_a_record_for_someone_else(
    app, api, seller, other_seller, manager, only_managers_change_owners
):
    response = api.post("/companies", seller, json={"name": "Podrzutek", "owner_id": other_seller["id"]})
    assert response.status_code == 403, response.get_json()
    nobody = api.post("/companies", seller, json={"name": "Niczyja", "owner_id": None})
    assert nobody.status_code == 403, nobody.get_json()
    assert owners(app) == {}
    # choosing oneself, or leaving the default, stays allowed; unknown users are a 422 as before
    assert api.post("/companies", seller, json={"name": "Moja", "owner_id": seller["id"]}).status_code == 201
    assert api.post("/companies", seller, json={"name": "Też moja"}).status_code == 201
    unknown = api.post("/companies", seller, json={"name": "Duch", "owner_id": 999_999})
    assert unknown.status_code == 422 and "owner_id" in unknown.get_json()["error"]["fields"]
    # roles that may change owners still create for others
    assert api.post("/companies", manager, json={"name": "Dla Olgi", "owner_id": other_seller["id"]}).status_code == 201
    assert owners(app) == {"Moja": seller["id"], "Też moja": seller["id"], "Dla Olgi": other_seller["id"]}


def test_the_admin_create_form_keeps_the_owner_of_a_new_record_to_its_creator(
    app, api, seller, other_seller, manager, only_managers_change_owners
):
    browser = logged_in(app, seller)
    page = browser.text("/admin/company/new/")
    assert re.search(r'<select[^>]*\bdisabled\b[^>]*name="owner"', page), "shown, read-only"
    refused = flashed(
        submit_form(browser, "/admin/company/new/", {"name": "Podrzutek", "owner": str(other_seller["id"])})
    )
    assert "Twoja rola nie może tu zmieniać opiekuna" in refused
    assert owners(app) == {}
    # a browser sends nothing for the disabled field: the creator owns the record
    submit_form(browser, "/admin/company/new/", {"name": "Moja"})
    assert owners(app) == {"Moja": seller["id"]}
    submit_form(logged_in(app, manager), "/admin/company/new/", {"name": "Dla Olgi", "owner": str(other_seller["id"])})
    assert owners(app)["Dla Olgi"] == other_seller["id"]


# --- a deputy edits, it does not take over or delete ------------------------------------------------


@pytest.fixture
def deputy_firm(api, seller, other_seller) -> dict:
    """The seller's company, with the other seller as a deputy with write access."""
    firm = company(api, seller, "Stal-Bud")
    response = api.post(
        ASSIGNMENTS,
        seller,
        json={
            "object_type": "company",
            "object_ids": [firm["id"]],
            "user_id": other_seller["id"],
            "kind": "deputy",
            "access": "write",
            "valid_to": day(30),
        },
    )
    assert response.status_code == 201, response.get_json()
    return firm


def test_a_deputy_edits_but_cannot_take_the_record_over_or_delete_it(app, api, seller, other_seller, deputy_firm):
    url = f"/companies/{deputy_firm['id']}"
    assert api.patch(url, other_seller, json={"city": "Kraków"}).status_code == 200, "a deputy edits"
    taken = api.patch(url, other_seller, json={"owner_id": other_seller["id"], "city": "Gdańsk"})
    assert taken.status_code == 403 and "owner_id" in taken.get_json()["error"]["fields"], taken.get_json()
    assert api.delete(url, other_seller).status_code == 403
    record = api.get(url, seller).get_json()
    assert record["owner_id"] == seller["id"] and record["city"] == "Kraków"
    # nor to a third user
    assert api.patch(url, other_seller, json={"owner_id": None}).status_code == 403
    assert api.get(url, seller).get_json()["owner_id"] == seller["id"]


def test_a_deputy_cannot_take_over_through_owner_assignments(app, api, seller, other_seller, manager, deputy_firm):
    firm_id = deputy_firm["id"]
    before = periods(api, seller, firm_id)
    for body in (
        {"kind": "primary", "user_id": other_seller["id"]},
        {"kind": "deputy", "user_id": manager["id"], "access": "write"},
    ):
        response = api.post(
            ASSIGNMENTS,
            other_seller,
            json={"object_type": "company", "object_ids": [firm_id], "on_overlap": "replace", **body},
        )
        assert response.status_code == 403, (body, response.get_json())
    items = api.get(f"{ASSIGNMENTS}?object_type=company&object_id={firm_id}", seller).get_json()["items"]
    primary = next(item for item in items if item["kind"] == "primary")
    deputyship = next(item for item in items if item["kind"] == "deputy")
    assert (
        api.patch(f"{ASSIGNMENTS}/{primary['id']}", other_seller, json={"user_id": other_seller["id"]}).status_code
        == 403
    )
    assert api.patch(f"{ASSIGNMENTS}/{deputyship['id']}", other_seller, json={"valid_to": None}).status_code == 403
    assert api.delete(f"{ASSIGNMENTS}/{primary['id']}", other_seller).status_code == 403
    assert periods(api, seller, firm_id) == before
    assert api.get(f"/companies/{firm_id}", seller).get_json()["owner_id"] == seller["id"]
    # the owner and managers still manage the periods
    assert api.patch(f"{ASSIGNMENTS}/{deputyship['id']}", seller, json={"access": "read"}).status_code == 200


def test_a_deputy_in_the_admin_sees_the_owner_read_only_and_cannot_delete(app, api, seller, other_seller, deputy_firm):
    browser = logged_in(app, other_seller)
    edit_url = f"/admin/company/edit/?id={deputy_firm['id']}"
    page = browser.text(edit_url)
    assert re.search(r'<select[^>]*\bdisabled\b[^>]*name="owner"', page), "shown, read-only"
    assert "Jesteś tu zastępcą" in page

    taken = flashed(submit_form(browser, edit_url, {"name": "Stal-Bud", "owner": str(other_seller["id"])}))
    assert "Jesteś tu zastępcą" in taken
    assert owners(app) == {"Stal-Bud": seller["id"]}
    submit_form(browser, edit_url, {"name": "Stal-Bud SA"})
    assert owners(app) == {"Stal-Bud SA": seller["id"]}, "a deputy edits"

    deleted = browser.submit(
        "/admin/company/delete/", {"id": str(deputy_firm["id"])}, form_url="/admin/company/", follow_redirects=True
    )
    assert "należy do innego użytkownika" in flashed(deleted)
    bulk = flashed(
        submit_form(
            browser,
            f"/admin/company/bulk/{ACTION}/?ids={deputy_firm['id']}",
            {
                "user": str(other_seller["id"]),
                "kind": "primary",
                "role": "sales",
                "valid_from": day(),
                "on_overlap": "replace",
                "access": "write",
            },
        )
    )
    assert f"nie Twoje: {deputy_firm['id']}" in bulk
    assert owners(app) == {"Stal-Bud SA": seller["id"]}


# --- nobody widens their own role through the ownership settings -------------------------------------


def test_a_settings_holder_cannot_let_its_own_role_change_owners(app, api, admin, only_managers_change_owners):
    assert (
        api.post(
            "/roles",
            admin,
            json={"name": "office", "label": "Office", "permissions": ["ownership.settings", "records.delete"]},
        ).status_code
        == 201
    )
    office = api.create_user("office@firma.example", role="office")
    for change_roles in (["manager", "office"], None):
        response = api.patch("/ownership/settings/company", office, json={"change_roles": change_roles})
        assert response.status_code == 403 and "change_roles" in response.get_json()["error"]["fields"], (
            response.get_json()
        )
    assert api.get("/ownership/settings/company", admin).get_json()["change_roles"] == ["manager"]
    # other settings, and other roles, stay its to choose
    assert (
        api.patch(
            "/ownership/settings/company", office, json={"change_roles": ["manager", "user"], "owner_required": True}
        ).status_code
        == 200
    )
    browser = logged_in(app, office)
    page = flashed(submit_form(browser, "/admin/ownership_settings/company/", {"change_roles": ["manager", "office"]}))
    assert "Nikt nie pozwala własnej roli zmieniać opiekunów" in page
    assert api.get("/ownership/settings/company", admin).get_json()["change_roles"] == ["manager", "user"]
