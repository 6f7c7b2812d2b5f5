"""Safe record types (issue 19): a partner's record type works whatever its model looks
like, and one that cannot work stops the start naming its plugin and the fix.

Before: a model without a ``name`` column took the app down at start-up (a bare
Flask-Admin ``AttributeError``), and once ``search_columns`` was set, deleting *any*
company answered 500 and offboarding failed halfway — the core asked every record type
for ``name``."""

from __future__ import annotations

import re

import pytest

from opiekun.plugin_manager import Plugin, PluginError, PluginHost
from opiekun.record_registry import RecordType
from opiekun.testing import schema_differences
from opiekun.testing.apps import build_app, close_app
from opiekun.testing.clients import ApiClient, logged_in
from opiekun.testing.plugins import make_plugin
from tests.offboarding.transfer_helpers import TRANSFERS, created, depart, transfer
from tests.support import visits_plugin


@pytest.fixture
def visits_app(tmp_path, fresh_database):
    app = build_app(tmp_path, fresh_database.url(), extra_plugins=[visits_plugin])
    yield app
    close_app(app)


def test_a_record_type_without_a_name_column_works_everywhere(visits_app):
    api = ApiClient(visits_app)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    seller = api.create_user("seller@firma.example", name="Stefan Sprzedawca")
    colleague = api.create_user("colleague@firma.example", name="Olga Inna")
    visit = created(
        api.post("/visits", seller, json={"place": "Poznań, ul. Długa 1", "visited_on": "2026-12-01", "note": "oferta"})
    )
    created(api.post("/visits", seller, json={"place": "Gniezno", "visited_on": "2026-12-02"}))

    found = api.get("/visits", seller, query_string={"q": "długa"}).get_json()
    assert [item["id"] for item in found["items"]] == [visit["id"]], "searched in its text columns"
    assert [item["id"] for item in api.get("/visits", seller, query_string={"q": "OFERTA"}).get_json()["items"]] == [
        visit["id"]
    ]

    company = created(api.post("/companies", admin, json={"name": "Agro-Tech"}))
    assert api.delete(f"/companies/{company['id']}", admin).status_code == 204, "was 500"

    browser = logged_in(visits_app, admin)
    page = browser.text("/admin/visit/")
    assert "Poznań, ul. Długa 1" in page and 'name="search"' in page
    assert "Poznań, ul. Długa 1" in browser.text("/admin/visit/?search=d%C5%82uga")
    history = browser.text(f"/admin/audit/?object_type=visit&object_id={visit['id']}")
    assert f"visit #{visit['id']}" in history, "named by type and id"

    depart(api, admin, seller)
    preview = created(api.get(f"/offboarding/{seller['id']}/preview", admin))
    assert "visit" in str(preview)
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": colleague["id"]})
    assert state["status"] == "done", state
    assert created(api.get(f"/visits/{visit['id']}", admin))["owner_id"] == colleague["id"]
    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    assert undone["transfer"]["status"] == "undone", undone
    assert created(api.get(f"/visits/{visit['id']}", admin))["owner_id"] == seller["id"]


def test_the_test_plugins_migration_creates_what_its_model_declares(visits_app):
    from tests.support.visits_plugin.models import Visit, VisitPlan

    assert schema_differences(visits_app, [Visit, VisitPlan]) == []


def test_a_record_type_that_cannot_work_stops_the_start_naming_its_plugin_and_the_fix():
    from tests.support.visits_plugin.models import Visit

    broken = make_plugin(
        "broken_visits",
        opiekun_record_types=lambda: [RecordType("visit", Visit, "Visit", "Visits", search_columns=("title",))],
    )
    host = PluginHost([Plugin(broken.MANIFEST, broken, None)])
    with pytest.raises(PluginError) as refused:
        host.record_types()
    assert str(refused.value) == (
        "plugin 'broken_visits': the record type 'visit' cannot work: search_columns names title, which Visit has "
        "not; name some of its columns: created_at, created_by_id, id, note, owner_id, place, updated_at, visited_on"
    )

    misnamed = make_plugin("misnamed", opiekun_record_types=lambda: [RecordType("wizyta", Visit, "Visit", "Visits")])
    with pytest.raises(PluginError, match=r"plugin 'misnamed': .*__object_type__ must be 'wizyta'"):
        PluginHost([Plugin(misnamed.MANIFEST, misnamed, None)]).record_types()


def test_search_columns_default_to_name_or_else_the_text_columns():
    from opiekun.models import Company
    from tests.support.visits_plugin.models import Visit

    assert RecordType("company", Company, "Company", "Companies").search_columns == ("name",)
    assert RecordType("visit", Visit, "Visit", "Visits").search_columns == ("place", "note")


def test_a_field_added_to_another_type_is_computed_once_per_page(tmp_path, fresh_database):
    """``opiekun_record_fields``: the values of a page come from one call, in the API and
    in the admin list; a field named like one of the model's columns stops the start."""
    from opiekun.plugin import RecordField

    calls = []

    def score_of(ids):
        calls.append(sorted(ids))
        return {record_id: record_id * 10 for record_id in ids}

    scoring = make_plugin(
        "scoring",
        opiekun_record_fields=lambda record_type: (
            [RecordField("score", "Score", score_of, int)] if record_type.name == "visit" else []
        ),
    )
    app = build_app(tmp_path / "app", fresh_database.url(), extra_plugins=[visits_plugin, scoring])
    api = ApiClient(app)
    admin = api.create_user("admin@firma.example", role="admin")
    ids = [
        created(api.post("/visits", admin, json={"place": f"Miejsce {n}", "visited_on": "2026-12-01"}))["id"]
        for n in range(3)
    ]
    calls.clear()
    items = api.get("/visits", admin).get_json()["items"]
    assert {item["id"]: item["score"] for item in items} == {record_id: record_id * 10 for record_id in ids}
    assert calls == [sorted(ids)], "one call for the page"
    calls.clear()
    page = logged_in(app, admin).text("/admin/visit/")
    text = " ".join(re.sub(r"<[^>]+>", " ", page[page.index("<body") :]).split())
    assert "Score" in text, "its column"
    row = text.split("Miejsce 2", 1)[1].split("Miejsce 1", 1)[0].split()
    assert row[-1] == str(ids[2] * 10), row
    assert calls == [sorted(ids)], "one call for the page"
    close_app(app)

    clashing = make_plugin(
        "clashing",
        opiekun_record_fields=lambda record_type: (
            [RecordField("place", "Place", score_of)] if record_type.name == "visit" else []
        ),
    )
    with pytest.raises(PluginError, match="the field 'place' added to the record type 'visit' is taken"):
        build_app(tmp_path / "clash", fresh_database.url(), extra_plugins=[visits_plugin, clashing])
