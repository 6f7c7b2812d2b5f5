"""An administrator reads the change history (seed 004, Livespace "Historia zmian"): for
every change to companies, persons, deals and the partner's contracts — made in the API, by
bulk operations, by jobs — the date, the user (also after they left), the record type, the
record's name with a link, the operation, and each field's name with its value before and
after, shown with human labels. Filters: dates, user (departed too), record type, one
record, operation. Only admins (or roles granted ``audit.view``) may look."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from opiekun.changes import Actor, FieldChange, RecordChange, acting_as, record_event, update_records
from opiekun.extensions import db
from opiekun.models import Company, User
from tests.audit.history_helpers import changes_of, history


def labels_of(entry: dict) -> dict[str, tuple]:
    return {item["field"]: (item["old_label"], item["new_label"]) for item in entry["changes"]}


def test_create_update_delete_appear_with_before_and_after_and_labels(api, admin, seller, other_seller):
    company = api.post("/companies", seller, json={"name": "Stal-Bud", "city": "Kraków"}).get_json()
    api.patch(f"/companies/{company['id']}", seller, json={"city": "Gdańsk", "owner_id": other_seller["id"]})
    api.delete(f"/companies/{company['id']}", admin)

    entries = history(api, admin, object_type="company", object_id=company["id"])
    assert [entry["operation"] for entry in entries] == ["delete", "owner_changed", "create"], "newest first"
    deleted, updated, created = entries

    assert created["user_id"] == seller["id"] and created["user_name"] == seller["name"]
    assert created["object_name"] == "Stal-Bud"
    assert created["object_url"] == f"/admin/company/details/?id={company['id']}"
    assert changes_of(created)["name"] == (None, "Stal-Bud")
    assert changes_of(created)["owner_id"] == (None, seller["id"])
    assert labels_of(created)["owner_id"] == (None, seller["name"]), "ids of users are shown by name"

    assert changes_of(updated) == {"city": ("Kraków", "Gdańsk"), "owner_id": (seller["id"], other_seller["id"])}, (
        "an edit that changes the owner is one owner change listing every field"
    )
    assert labels_of(updated)["owner_id"] == (seller["name"], other_seller["name"])
    field_labels = {item["field"]: item["field_label"] for item in updated["changes"]}
    assert field_labels == {"city": "City", "owner_id": "Owner"}

    assert deleted["user_name"] == admin["name"]
    assert changes_of(deleted)["name"] == ("Stal-Bud", None)
    assert changes_of(deleted)["city"] == ("Gdańsk", None)
    at = dt.datetime.fromisoformat(deleted["at"])
    assert at.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=5)


def test_deal_stages_are_shown_by_name_and_relations_by_the_related_record(api, admin, seller, pipeline):
    company = api.post("/companies", seller, json={"name": "Hydro-Tech"}).get_json()
    person = api.post("/persons", seller, json={"first_name": "Jan", "last_name": "Kowalski"}).get_json()
    deal = api.post(
        "/deals", seller, json={"name": "Pompy", "company_id": company["id"], "stage": "Kontakt", "value": "1200.50"}
    ).get_json()
    api.patch(
        f"/deals/{deal['id']}", seller, json={"stage": "Oferta", "person_id": person["id"], "close_date": "2026-03-31"}
    )

    updated, created = history(api, admin, object_type="deal", object_id=deal["id"])
    assert labels_of(created)["company_id"] == (None, "Hydro-Tech")
    assert labels_of(created)["stage_id"][1] == "Kontakt"
    assert changes_of(created)["value"] == (None, "1200.50")
    assert labels_of(updated)["stage_id"] == ("Kontakt", "Oferta"), "process stage changed, by name"
    assert labels_of(updated)["person_id"] == (None, "Jan Kowalski"), "related record added, by name"
    assert changes_of(updated)["close_date"] == (None, "2026-03-31"), "closing date changed"


def test_events_without_a_column_change_are_recorded_too(app, api, admin, seller):
    """Tags, relation events, products…: a plugin sends them through the change stream
    (``record_event``) and they appear with their own operation name."""
    company = api.post("/companies", seller, json={"name": "Tag-Bud"}).get_json()
    with app.app_context(), acting_as(Actor(user_id=seller["id"], user_name=seller["name"])):
        record_event(
            db.session,
            RecordChange("company", company["id"], "Tag-Bud", "relation_added", (FieldChange("tags", None, "VIP"),)),
        )
        db.session.commit()
    [entry] = history(api, admin, operation="relation_added")
    assert entry["object_id"] == company["id"] and changes_of(entry) == {"tags": (None, "VIP")}
    assert entry["user_name"] == seller["name"]


def test_a_rolled_back_change_leaves_no_entry(app, api, admin, seller):
    refused = api.post("/deals", seller, json={"name": "Bez lejka"})  # no pipeline yet: 422
    assert refused.status_code == 422
    with app.app_context():
        db.session.add(Company(name="Wycofana"))
        db.session.flush()
        db.session.rollback()
    assert history(api, admin) == []


def test_a_bulk_change_of_n_records_leaves_n_entries_with_the_job_as_actor(app, api, admin, seller, other_seller):
    ids = [api.post("/companies", seller, json={"name": f"Firma {number}"}).get_json()["id"] for number in range(25)]
    with app.app_context(), acting_as(Actor(user_id=admin["id"], user_name=admin["name"], job="transfer#1")):
        moved = update_records(db.session, Company, Company.id.in_(ids[:20]), {"owner_id": other_seller["id"]})
        db.session.commit()
    assert moved == 20

    entries = history(api, admin, object_type="company", operation="update")
    assert len(entries) == 20
    assert {entry["object_id"] for entry in entries} == set(ids[:20])
    for entry in entries:
        assert entry["job"] == "transfer#1" and entry["user_name"] == admin["name"]
        assert changes_of(entry) == {"owner_id": (seller["id"], other_seller["id"])}
        assert labels_of(entry)["owner_id"] == (seller["name"], other_seller["name"])
        assert entry["object_name"].startswith("Firma ")
        assert entry["object_url"] == f"/admin/company/details/?id={entry['object_id']}"
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_changes_of_a_departed_user_still_show_their_name_and_can_be_filtered(api, admin, seller):
    api.post("/companies", seller, json={"name": "Odchodzę"})
    assert api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"}).status_code == 200
    entries = history(api, admin, user_id=seller["id"])
    assert [entry["user_name"] for entry in entries] == [seller["name"]]
    assert entries[0]["object_name"] == "Odchodzę"


def test_filters_by_date_type_record_and_operation(app, api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Filtr"}).get_json()
    api.post("/persons", seller, json={"first_name": "Anna", "last_name": "Nowak"})
    today = dt.datetime.now(dt.UTC).date()  # the API's days are UTC days (the panel's, the user's)
    assert len(history(api, admin, **{"from": today.isoformat(), "to": today.isoformat()})) == 2
    assert history(api, admin, **{"to": (today - dt.timedelta(days=1)).isoformat()}) == []
    assert history(api, admin, **{"from": (today + dt.timedelta(days=1)).isoformat()}) == []
    assert [entry["object_type"] for entry in history(api, admin, object_type="person")] == ["person"]
    assert [entry["object_name"] for entry in history(api, admin, object_type="company", object_id=company["id"])] == [
        "Filtr"
    ]
    assert history(api, admin, operation="delete") == []
    page = api.get("/audit", admin, query_string={"per_page": 1, "page": 2}).get_json()
    assert page["total"] == 2 and page["page"] == 2 and len(page["items"]) == 1


def test_bad_filters_and_strangers_get_clear_answers(api, admin, seller, manager):
    api.post("/companies", seller, json={"name": "X"})
    for query, field in (
        ({"from": "2026-13-01"}, "from"),
        ({"to": "wczoraj"}, "to"),
        ({"user_id": 99999}, "user_id"),
        ({"object_type": "spaceship"}, "object_type"),
        ({"user_id": "abc"}, "user_id"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"colour": "red"}, "colour"),
    ):
        response = api.get("/audit", admin, query_string=query)
        assert response.status_code == 422, (query, response.get_json())
        assert field in response.get_json()["error"]["fields"], (query, response.get_json())
    for user in (seller, manager):
        assert api.get("/audit", user).status_code == 403
        assert api.get("/audit/export.xlsx", user).status_code == 403
        assert api.get("/audit/verify", user).status_code == 403
    assert api.get("/audit", None).status_code == 401


def test_a_custom_role_with_audit_view_may_read_the_history(api, admin):
    response = api.post("/roles", admin, json={"name": "auditor", "label": "Audytor", "permissions": ["audit.view"]})
    assert response.status_code == 201, response.get_json()
    auditor = api.create_user("audytor@firma.example", role="auditor")
    api.post("/companies", admin, json={"name": "Widoczna"})
    assert [entry["object_name"] for entry in history(api, auditor)] == ["Widoczna"]
    assert api.post("/persons/1/anonymize", auditor).status_code == 403, "seeing is not anonymizing"


def test_partner_plugin_records_are_audited(api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Klient"}).get_json()
    contract = api.post(
        "/contracts",
        seller,
        json={"name": "Serwis 2026", "start_date": "2026-01-01", "value": "5000.00", "company_id": company["id"]},
    )
    assert contract.status_code == 201, contract.get_json()
    contract = contract.get_json()
    api.patch(f"/contracts/{contract['id']}", seller, json={"status": "ended"})
    updated, created = history(api, admin, object_type="contract")
    assert created["object_name"] == "Serwis 2026" and created["operation"] == "create"
    assert created["object_url"] == f"/admin/contract/details/?id={contract['id']}"
    assert changes_of(updated) == {"status": ("active", "ended")}
    assert updated["changes"][0]["field_label"] == "Status"


def test_per_type_configuration_leaves_out_operations_and_fields(api, admin, seller):
    response = api.patch(
        "/audit/settings/company", admin, json={"excluded_fields": ["city"], "operations": ["create", "update"]}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "object_type": "company",
        "operations": ["create", "update"],
        "excluded_fields": ["city"],
    }
    company = api.post("/companies", seller, json={"name": "Konfig", "city": "Łódź"}).get_json()
    api.patch(f"/companies/{company['id']}", seller, json={"city": "Poznań"})  # only an excluded field: no entry
    api.patch(f"/companies/{company['id']}", seller, json={"name": "Konfig 2", "city": "Gniezno"})
    api.delete(f"/companies/{company['id']}", admin)  # delete is not recorded for companies now
    entries = history(api, admin, object_type="company")
    assert [entry["operation"] for entry in entries] == ["update", "create"]
    assert "city" not in changes_of(entries[0]) and "city" not in changes_of(entries[1])
    assert api.patch("/audit/settings/company", admin, json={"excluded_fields": ["colour"]}).status_code == 422
    assert api.patch("/audit/settings/spaceship", admin, json={"excluded_fields": []}).status_code == 404
    assert api.patch("/audit/settings/company", seller, json={"excluded_fields": []}).status_code == 403


def test_retention_purges_old_entries_and_the_chain_stays_verifiable(app, api, admin, seller):
    from opiekun.plugins.audit.models import AuditEntry
    from opiekun.plugins.audit.retention import purge_old_entries

    assert api.get("/audit/retention", admin).get_json() == {"retention_months": None}
    for number in range(3):
        api.post("/companies", seller, json={"name": f"Stara {number}"})
    api.post("/companies", seller, json={"name": "Nowa"})
    with app.app_context():
        assert purge_old_entries()["purged"] == 0, "off by default: nothing is deleted"
    assert api.patch("/audit/retention", admin, json={"retention_months": 0}).status_code == 422
    assert api.patch("/audit/retention", admin, json={"retention_months": 24}).get_json() == {"retention_months": 24}
    with app.app_context():
        first_three = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id).limit(3)).all()
        result = purge_old_entries(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=2 * 366))
        db.session.commit()
    assert result["purged"] == 4
    entries = history(api, admin)
    assert [entry["operation"] for entry in entries] == ["purge"]
    assert entries[0]["context"]["purged"] == 4
    assert not set(first_three) & {entry["id"] for entry in entries}
    api.post("/companies", seller, json={"name": "Po czystce"})
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_the_history_lists_every_route_in_openapi(api):
    paths = api.get("/openapi.json", None).get_json()["paths"]
    for path in (
        "/api/v1/audit",
        "/api/v1/audit/export.xlsx",
        "/api/v1/persons/{person_id}/anonymize",
        "/api/v1/audit/verify",
        "/api/v1/audit/exports/{job_id}",
    ):
        assert path in paths, path


def test_users_are_never_lost_from_the_history(app, api, admin, seller):
    api.post("/companies", seller, json={"name": "Zostaję"})
    with app.app_context():
        user = db.session.get(User, seller["id"])
        user.name = "Stefan Nowe-Nazwisko"
        db.session.commit()
    [entry] = history(api, admin)
    assert entry["user_name"] == seller["name"], "the name at the time of the change"
