"""The audit plugin's mechanics: switched off it leaves no trace; set-based changes of
several fields make one entry per record; the chain's canonical form is stable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, select

from opiekun.changes import Actor, acting_as, update_records
from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.apps import build_app
from tests.audit.history_helpers import changes_of, history


def test_switched_off_audit_leaves_no_tables_routes_permissions_jobs_or_commands(tmp_path, fresh_database):
    other = build_app(tmp_path, fresh_database.url(), plugins=("contracts",))
    with other.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert not {name for name in tables if name.startswith("audit")}
        assert not [
            rule.rule for rule in other.url_map.iter_rules() if "audit" in rule.rule or "anonymize" in rule.rule
        ]
        assert not [name for name in other.extensions["opiekun.permissions"] if name.startswith("audit.")]
        assert not [name for name in other.extensions["opiekun.jobs"] if name.startswith("audit.")]
        assert "audit" not in other.cli.commands
        db.engine.dispose()


def test_a_set_based_change_of_two_fields_makes_one_entry_per_record(app, api, admin, seller):
    ids = [
        api.post("/companies", seller, json={"name": f"Dwa pola {n}", "city": "Ełk"}).get_json()["id"] for n in range(3)
    ]
    with app.app_context(), acting_as(Actor(job="cleanup")):
        assert (
            update_records(db.session, Company, Company.id.in_(ids), {"city": "Olsztyn", "owner_id": admin["id"]}) == 3
        )
        db.session.commit()
    entries = history(api, admin, operation="update")
    assert len(entries) == 3
    for entry in entries:
        assert changes_of(entry) == {"city": ("Ełk", "Olsztyn"), "owner_id": (seller["id"], admin["id"])}
        assert entry["job"] == "cleanup" and entry["user_id"] is None
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_the_canonical_form_is_stable_and_independent_of_key_order(app):
    from opiekun.plugins.audit import chain

    at = dt.datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC)
    entry = {
        "at": at,
        "user_id": 1,
        "user_name": "Ada",
        "job": None,
        "object_type": "company",
        "object_id": 7,
        "object_name": "Zażółć",
        "object_url": "/admin/company/details/?id=7",
        "operation": "update",
        "changes": [{"new": "b", "field": "city", "old": "a"}],
        "context": None,
    }
    reordered = {**entry, "changes": [{"field": "city", "old": "a", "new": "b"}], "context": {}}
    assert chain.canonical(entry) == chain.canonical(reordered)
    assert chain.canonical(entry).startswith(
        b'["opiekun.audit/1","2026-01-02T03:04:05.000600Z",1,"Ada",null,"company",7,"Za'
    )
    with app.app_context():
        key = chain.chain_key()
        first, second = chain.chain(key, chain.GENESIS, [entry, reordered])
        assert first != second and len(first) == 64


def test_a_template_fills_in_to_the_very_text_of_the_whole_entry():
    from opiekun.plugins.audit import chain

    at = dt.datetime(2026, 11, 23, 8, 0, 0, 1, tzinfo=dt.UTC)
    shared = {
        "at": at,
        "user_id": 4,
        "user_name": 'Łucja "Lu" {Nowak}',
        "job": None,
        "object_type": "deal",
        "operation": "update",
        "context": {"offboarding_transfer_id": 9, "why": "odejście\n{0}"},
    }
    slots = [chain.Slot(index) for index in range(5)]
    changes = [
        {
            "field": "owner_id",
            "field_label": "Owner",
            "old": slots[3],
            "new": 5,
            "old_label": slots[4],
            "new_label": "Ewa",
        }
    ]
    template = chain.Template.of_entry(
        {**shared, "object_id": slots[0], "object_name": slots[1], "object_url": slots[2], "changes": changes}
    )
    for values in ([7, 'Umowa \\ "ramowa"\t€', "/admin/deal/7", None, None], [2**31 - 1, None, None, "12.50", "Zoë"]):
        whole = {
            **shared,
            "object_id": values[0],
            "object_name": values[1],
            "object_url": values[2],
            "changes": [{**changes[0], "old": values[3], "old_label": values[4]}],
        }
        encoded = [chain.encode_value(value) for value in values]
        assert template.fill(encoded) == chain.canonical_text(whole)
        assert chain.Template.of_value(changes).fill(encoded) == chain.Template.of_value(whole["changes"]).fill([])


def test_a_set_based_change_longer_than_a_page_is_chained_in_record_order(app, api, admin, seller, monkeypatch):
    from opiekun.plugins.audit import bulk_recording

    monkeypatch.setattr(bulk_recording, "BULK_PAGE", 2)
    ids = [api.post("/companies", seller, json={"name": f"Strona {n}"}).get_json()["id"] for n in range(5)]
    with app.app_context(), acting_as(Actor(job="cleanup")):
        assert update_records(db.session, Company, Company.id.in_(ids), {"owner_id": admin["id"]}) == 5
        db.session.commit()
    entries = history(api, admin, operation="update")
    assert sorted(entry["object_id"] for entry in entries) == ids
    assert [entry["object_id"] for entry in sorted(entries, key=lambda entry: entry["id"])] == ids
    assert all(entry["changes"][0]["old_label"] and entry["changes"][0]["new_label"] for entry in entries)
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_settings_are_re_read_by_every_process_when_they_change(app, api, admin, seller):
    from opiekun.plugins.audit.models import AuditChain

    api.post("/companies", seller, json={"name": "Przed"})
    with app.app_context():
        version = db.session.scalar(select(AuditChain.settings_version))
    api.patch("/audit/settings/company", admin, json={"operations": ["update"]})
    with app.app_context():
        assert db.session.scalar(select(AuditChain.settings_version)) == version + 1
    api.post("/companies", seller, json={"name": "Po"})
    assert [entry["object_name"] for entry in history(api, admin)] == ["Przed"]


def test_a_set_based_change_may_name_its_operation(app, api, admin, seller):
    """``update_records(…, operation=…)`` (core): the events carry that name, not ``update``."""
    company = api.post("/companies", seller, json={"name": "Przemianowana"}).get_json()
    with app.app_context(), acting_as(Actor(user_id=admin["id"], user_name=admin["name"])):
        update_records(db.session, Company, Company.id == company["id"], {"name": "Nowa nazwa"}, operation="renamed")
        db.session.commit()
    [entry] = history(api, admin, operation="renamed")
    assert changes_of(entry) == {"name": ("Przemianowana", "Nowa nazwa")}


def test_verification_reports_its_progress(app, api, admin, seller):
    from opiekun.plugins.audit.verification import verify_history

    for number in range(5):
        api.post("/companies", seller, json={"name": f"Postęp {number}"})
    seen = []
    with app.app_context():
        verdict = verify_history(progress=seen.append, progress_every=2)
    assert verdict.ok and verdict.checked == 5 and seen == [2, 4]


def test_an_entry_names_a_field_in_english_whatever_the_users_language(app):
    from flask_babel import force_locale, gettext

    from opiekun.plugins.audit.labels import field_label

    with app.test_request_context(), force_locale("pl"):
        assert gettext("City") != "City", "the Polish catalog is in use"
        assert [field_label(name) for name in ("city", "owner_id", "lucky_number")] == ["City", "Owner", "Lucky number"]
        assert gettext("City") != "City", "the user's language is back"
