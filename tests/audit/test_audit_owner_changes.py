"""An update that changes a record's owner is recorded as one "owner changed" entry listing
every field it changed — from a form or the API (one flush) and from a set-based change —
on a chain that verifies; filters and per-type settings naming ``update`` take owner
changes in, ``owner_changed`` names them alone (audit knowing no other plugin)."""

from __future__ import annotations

from opiekun.changes import Actor, acting_as, update_records
from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.clients import logged_in
from tests.audit.history_helpers import changes_of, history


def company(api, user, name: str) -> dict:
    response = api.post("/companies", user, json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_update_of_the_owner_is_one_owner_change_with_every_field(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Zmiana")
    api.patch(f"/companies/{firm['id']}", seller, json={"city": "Opole", "owner_id": other_seller["id"]})
    api.patch(f"/companies/{firm['id']}", other_seller, json={"city": "Nysa"})

    edit, owner_change, _created = history(api, admin, object_type="company", object_id=firm["id"])
    assert owner_change["operation"] == "owner_changed"
    assert changes_of(owner_change) == {"city": (None, "Opole"), "owner_id": (seller["id"], other_seller["id"])}
    assert edit["operation"] == "update", "an edit that leaves the owner is an edit"
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_a_set_based_owner_change_is_one_owner_change_per_record(app, api, admin, seller):
    ids = [company(api, seller, f"Zbiorczo {n}")["id"] for n in range(3)]
    with app.app_context(), acting_as(Actor(job="reassign")):
        assert update_records(db.session, Company, Company.id.in_(ids), {"owner_id": admin["id"]}) == 3
        assert update_records(db.session, Company, Company.id.in_(ids), {"city": "Lublin"}) == 3
        db.session.commit()

    owner_changes = history(api, admin, operation="owner_changed")
    assert sorted(entry["object_id"] for entry in owner_changes) == ids
    assert {(item["old_label"], item["new_label"]) for entry in owner_changes for item in entry["changes"]} == {
        (seller["name"], admin["name"])
    }
    assert len(history(api, admin, operation="update")) == 6, "update finds the owner changes too"
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_the_panel_names_it_zmiana_opiekuna_and_offers_it_as_a_filter(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Po polsku")
    api.patch(f"/companies/{firm['id']}", admin, json={"owner_id": other_seller["id"]})
    browser = logged_in(app, admin)

    page = browser.text(f"/admin/audit/?object_type=company&object_id={firm['id']}&operation=owner_changed")
    assert page.count('<tr id="entry-') == 1 and "zmiana opiekuna" in page
    assert '<option value="owner_changed"' in page


def test_a_setting_may_record_owner_changes_and_leave_other_edits_out(app, api, admin, seller, other_seller):
    settings = api.patch("/audit/settings/company", admin, json={"operations": ["create", "owner_changed"]})
    assert settings.status_code == 200, settings.get_json()
    firm = company(api, seller, "Tylko opiekun")
    api.patch(f"/companies/{firm['id']}", seller, json={"city": "Kielce"})
    api.patch(f"/companies/{firm['id']}", seller, json={"owner_id": other_seller["id"]})

    entries = history(api, admin, object_type="company", object_id=firm["id"])
    assert [entry["operation"] for entry in entries] == ["owner_changed", "create"]

    api.patch("/audit/settings/company", admin, json={"operations": ["update"]})
    api.patch(f"/companies/{firm['id']}", other_seller, json={"owner_id": seller["id"]})
    assert history(api, admin, object_type="company", object_id=firm["id"])[0]["operation"] == "owner_changed", (
        "recording updates records owner changes"
    )
