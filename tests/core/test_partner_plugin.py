"""The plugin contract, end to end, through a partner's plugin installed like any other:
``opiekun-contracts`` from ``examples/`` (``pip install -e examples/opiekun-contracts``).

Found through its entry point; when on, it brings a table, API, admin view, permission,
job, schedule and command, its records flow through the change stream and offboarding;
when off, it leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import types
from decimal import Decimal

import opiekun_contracts
import pytest
from sqlalchemy import func, inspect, select

from opiekun import PluginManifest, hookimpl, local_time
from opiekun.changes import Actor, acting_as, update_records
from opiekun.cli import cli
from opiekun.extensions import db
from opiekun.jobs import enqueue, job_state
from opiekun.models import Company
from opiekun.plugin_manager import discover_plugins
from opiekun.testing import schema_differences
from opiekun.testing.apps import build_app
from opiekun.testing.clients import ApiClient
from opiekun.user_items import TransferRequest

TODAY = dt.date(2026, 6, 15)


def contract_values(company_id: int, owner_id: int | None, **values) -> dict:
    return {
        "name": "Serwis",
        "company_id": company_id,
        "owner_id": owner_id,
        "created_by_id": owner_id,
        "value": Decimal("1000.00"),
        "start_date": dt.date(2026, 1, 1),
        "status": "active",
        **values,
    }


def add_contracts(app, owner_id: int | None, *many: dict) -> list[int]:
    """Contracts of a new company, saved directly (the API is tested in acceptance/)."""
    from opiekun_contracts.models import Contract

    with app.app_context():
        company = Company(name="Stal-Bud", owner_id=owner_id)
        db.session.add(company)
        db.session.flush()
        contracts = [Contract(**contract_values(company.id, owner_id, **values)) for values in many]
        db.session.add_all(contracts)
        db.session.commit()
        return [contract.id for contract in contracts]


def contract_row(app, contract_id: int):
    from opiekun_contracts.models import Contract

    with app.app_context():
        contract = db.session.get(Contract, contract_id)
        return (contract.status, contract.owner_id) if contract else None


# --- discovery ----------------------------------------------------------------------------


def test_the_plugin_is_found_through_its_entry_point():
    plugin = discover_plugins()["contracts"]
    assert plugin.module is opiekun_contracts
    assert plugin.distribution == "opiekun-contracts"
    assert (plugin.manifest.name, plugin.manifest.version, plugin.manifest.depends) == ("contracts", "1.0.0", ())


def test_importing_the_plugin_declares_no_table():
    """The top module is imported even when the plugin is off: it must not declare tables."""
    probe = (
        "import opiekun_contracts; from opiekun.extensions import db; "
        "assert 'contracts' not in db.metadata.tables, 'importing the plugin declared its table'; "
        "import opiekun_contracts.models; assert 'contracts' in db.metadata.tables"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_plugins_command_lists_it_with_its_hooks(app):
    result = app.test_cli_runner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    [index] = [number for number, line in enumerate(lines) if line.startswith("contracts 1.0.0")]
    assert lines[index] == "contracts 1.0.0 — enabled"
    assert lines[index + 2] == "    schema: up to date (contracts_0002)"
    assert "opiekun_record_types" in lines[index + 3] and "opiekun_jobs" in lines[index + 3]


# --- enabled: everything it contributes is there ------------------------------------------


def test_when_enabled_it_contributes_every_surface(app):
    from opiekun_contracts.admin import ContractView
    from opiekun_contracts.models import Contract

    record_type = app.extensions["opiekun.record_types"].get("contract")
    assert record_type.model is Contract and record_type.api_path == "contracts"
    assert app.extensions["opiekun.permissions"]["contracts.approve"].roles == ("manager",)
    assert "contracts.end_expired" in app.extensions["opiekun.jobs"]
    assert [(s.job, s.cron) for s in app.extensions["opiekun.schedules"] if s.job.startswith("contracts.")] == [
        ("contracts.end_expired", "5 0 * * *")
    ]
    assert "contracts-report" in app.cli.commands
    admin_views = app.extensions["opiekun.admin"]._views
    assert any(isinstance(view, ContractView) for view in admin_views)
    assert app.extensions["opiekun.migrations"]["contracts"] == opiekun_contracts.opiekun_migrations_dir()


def test_its_migration_creates_exactly_the_table_the_model_declares(app):
    from opiekun_contracts.models import Contract

    assert schema_differences(app, [Contract]) == []
    with app.app_context(), db.engine.connect() as connection:
        assert {column["name"] for column in inspect(connection).get_columns("contracts")} == {
            "id",
            "name",
            "company_id",
            "value",
            "start_date",
            "end_date",
            "status",
            "owner_id",
            "created_by_id",
            "created_at",
            "updated_at",
        }


def test_the_report_command_counts_contracts_and_lists_those_ending_soon(app, seller):
    today = local_time.today()  # the command's today: the company's
    add_contracts(
        app,
        seller["id"],
        {"name": "Kończy się", "end_date": today + dt.timedelta(days=10), "value": Decimal("500.00")},
        {"name": "Długa", "end_date": today + dt.timedelta(days=400), "value": Decimal("1500.00")},
        {"name": "Stara", "end_date": today - dt.timedelta(days=10), "status": "ended"},
    )
    result = app.test_cli_runner().invoke(cli, ["contracts-report", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "active: 2 contract(s), value 2000.00" in result.output
    assert "ended: 1 contract(s), value 1000.00" in result.output
    assert "ending within 30 day(s): 1" in result.output and "Kończy się" in result.output
    assert "Długa" not in result.output


def test_the_reports_default_horizon_is_a_setting_read_when_the_app_is_ready(tmp_path, fresh_database):
    """``opiekun_app_ready``: OPIEKUN_CONTRACTS_REPORT_DAYS is the report's default; a bad
    value stops the start naming the plugin, before anything runs."""
    from sqlalchemy import text

    from tests.core.test_plugin_lifecycle import database, opiekun

    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init").returncode == 0
    with database(url, write=True) as connection:
        connection.execute(
            text(
                "INSERT INTO contracts (name, value, start_date, status, created_at, updated_at) "
                "VALUES ('Serwis', 100, '2026-01-01', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    report = opiekun(url, tmp_path, "contracts-report", OPIEKUN_CONTRACTS_REPORT_DAYS="7")
    assert report.returncode == 0, report.stderr
    assert "ending within 7 day(s)" in report.stdout
    refused = opiekun(url, tmp_path, "contracts-report", OPIEKUN_CONTRACTS_REPORT_DAYS="a week")
    assert refused.returncode != 0
    assert "plugin 'contracts' failed in opiekun_app_ready: ValueError: OPIEKUN_CONTRACTS_REPORT_DAYS must be" in (
        refused.stderr
    )


# --- disabled: no trace -------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_without_plugins(tmp_path_factory, fresh_database):
    """A deployment with ``OPIEKUN_PLUGINS=""``: the contracts plugin is installed but off."""
    application = build_app(tmp_path_factory.mktemp("no_plugins"), fresh_database.url(), plugins=())
    yield application
    with application.app_context():
        db.engine.dispose()


def test_when_disabled_it_leaves_no_trace(app_without_plugins):
    app = app_without_plugins
    assert "contracts" not in app.extensions["opiekun.plugins"].names
    with app.app_context():
        assert "contracts" not in inspect(db.engine).get_table_names()
        assert "companies" in inspect(db.engine).get_table_names()
    assert "contract" not in app.extensions["opiekun.record_types"]
    assert "contracts.approve" not in app.extensions["opiekun.permissions"]
    assert not any(name.startswith("contracts.") for name in app.extensions["opiekun.jobs"])
    assert not any(schedule.job.startswith("contracts.") for schedule in app.extensions["opiekun.schedules"])
    assert "contracts" not in app.extensions["opiekun.migrations"]
    assert not any(getattr(view, "endpoint", None) == "contract" for view in app.extensions["opiekun.admin"]._views)


def test_when_disabled_it_has_no_route_no_api_document_and_no_command(app_without_plugins):
    api = ApiClient(app_without_plugins)
    user = api.create_user("nobody@firma.example")
    assert api.get("/contracts", None).status_code == 401
    assert api.get("/contracts", user).status_code == 404
    assert api.post("/contracts", user, json={"name": "x"}).status_code in (404, 405)
    assert api.get("/contracts/1", user).status_code == 404
    document = api.get("/openapi.json", None).get_json()
    assert not [path for path in document["paths"] if "contract" in path]
    assert "contracts-report" not in app_without_plugins.cli.commands
    result = app_without_plugins.test_cli_runner().invoke(cli, ["contracts-report"])
    assert result.exit_code != 0 and "No such command" in result.output
    plugins = api.get("/plugins", user).get_json()
    assert "contracts" not in {plugin["name"] for plugin in plugins["items"]}


# --- the change stream --------------------------------------------------------------------


class ChangeRecorder:
    """A tiny plugin, written the way a partner would: a module with a ``MANIFEST`` and one
    ``opiekun_records_changed`` hook that keeps every event it receives."""

    def __init__(self):
        self.records: list[tuple[Actor, object]] = []
        self.bulk: list[tuple[Actor, object, list]] = []
        records, bulk_changes = self.records, self.bulk

        @hookimpl
        def opiekun_records_changed(session, change_set):
            """Keep each event; a bulk change's rows must be read now (its table lives
            only while the hook runs)."""
            for change in change_set.records:
                records.append((change_set.actor, change))
            for bulk in change_set.bulk:
                bulk_changes.append((change_set.actor, bulk, list(bulk.record_changes(session))))

        self.module = types.ModuleType("contracts_change_recorder")
        self.module.MANIFEST = PluginManifest(
            name="recorder", version="0.0.1", summary="keeps change events", depends=("contracts",)
        )
        self.module.opiekun_records_changed = opiekun_records_changed

    def of(self, operation: str) -> list[tuple[Actor, object]]:
        return [
            (actor, change)
            for actor, change in self.records
            if change.object_type == "contract" and change.operation == operation
        ]


@pytest.fixture
def recorder():
    return ChangeRecorder()


@pytest.fixture
def recorded_app(tmp_path, fresh_database, recorder):
    """An app with the contracts plugin and the recorder (which depends on it)."""
    application = build_app(
        tmp_path, fresh_database.url(), extra_plugins=(recorder.module,), plugins=("contracts", "recorder")
    )
    assert application.extensions["opiekun.plugins"].names == ["contracts", "recorder"]
    yield application
    with application.app_context():
        db.engine.dispose()


def fields_of(change) -> dict:
    return {field.field: (field.old, field.new) for field in change.changes}


def test_contract_changes_over_http_reach_the_change_stream_with_fields_and_user(recorded_app, recorder):
    api = ApiClient(recorded_app)
    seller = api.create_user("seller@firma.example", name="Stefan Sprzedawca")
    company = api.post("/companies", seller, json={"name": "Agrotech"}).get_json()
    body = {"name": "Serwis 2026", "company_id": company["id"], "value": "12000.50", "start_date": "2026-01-01"}
    contract = api.post("/contracts", seller, json=body).get_json()

    [(actor, created)] = recorder.of("create")
    assert (actor.user_id, actor.user_name) == (seller["id"], "Stefan Sprzedawca")
    assert (created.object_id, created.object_name) == (contract["id"], "Serwis 2026")
    assert fields_of(created) == {
        "name": (None, "Serwis 2026"),
        "company_id": (None, company["id"]),
        "value": (None, "12000.50"),
        "start_date": (None, "2026-01-01"),
        "status": (None, "active"),
        "owner_id": (None, seller["id"]),
        "created_by_id": (None, seller["id"]),
    }

    assert (
        api.patch(
            f"/contracts/{contract['id']}", seller, json={"end_date": "2026-12-31", "name": "Serwis 2026"}
        ).status_code
        == 200
    )
    [(actor, updated)] = recorder.of("update")
    assert actor.user_id == seller["id"]
    assert fields_of(updated) == {"end_date": (None, "2026-12-31")}, "only what changed"

    assert api.patch(f"/contracts/{contract['id']}", seller, json={"end_date": "2025-01-01"}).status_code == 422
    assert len(recorder.of("update")) == 1, "a refused change has no event"

    assert api.delete(f"/contracts/{contract['id']}", seller).status_code == 204
    [(actor, deleted)] = recorder.of("delete")
    assert actor.user_id == seller["id"]
    assert fields_of(deleted)["end_date"] == ("2026-12-31", None) and fields_of(deleted)["status"] == ("active", None)


def test_a_set_based_update_reaches_the_change_stream_as_one_bulk_change(recorded_app, recorder):
    from opiekun_contracts.models import Contract

    ids = add_contracts(recorded_app, None, {"name": "A"}, {"name": "B"}, {"name": "C", "status": "ended"})
    recorder.records.clear()
    with recorded_app.app_context(), acting_as(Actor(job="test.end_all")):
        changed = update_records(db.session, Contract, Contract.id.in_(ids), {"status": "ended"})
        db.session.commit()
    assert changed == 2, "a contract already ended is not changed again"
    [(actor, bulk, rows)] = recorder.bulk
    assert actor.job == "test.end_all"
    assert (bulk.object_type, bulk.operation, bulk.count) == ("contract", "update", 2)
    assert sorted((row.object_id, row.object_name, fields_of(row)["status"]) for row in rows) == [
        (ids[0], "A", ("active", "ended")),
        (ids[1], "B", ("active", "ended")),
    ]
    assert recorder.of("update") == [], "a bulk change is not also reported row by row"


# --- offboarding --------------------------------------------------------------------------


def test_offboarding_counts_and_moves_contracts_set_based_with_events(recorded_app, recorder):
    api = ApiClient(recorded_app)
    leaving = api.create_user("leaving@firma.example")
    heir = api.create_user("heir@firma.example")
    open_ids = add_contracts(recorded_app, leaving["id"], {"name": "Otwarta 1"}, {"name": "Otwarta 2"})
    [ended_id] = add_contracts(recorded_app, leaving["id"], {"name": "Zakończona", "status": "ended"})
    host = recorded_app.extensions["opiekun.plugins"]

    with recorded_app.app_context():
        [count] = [
            item for item in host.user_items(leaving["id"], include_closed=True) if item.object_type == "contract"
        ]
        assert (count.label, count.open, count.closed, count.total) == ("Contracts", 2, 1, 3)
        [count] = [
            item for item in host.user_items(leaving["id"], include_closed=False) if item.object_type == "contract"
        ]
        assert (count.open, count.closed) == (2, 0)

    recorder.bulk.clear()
    request = TransferRequest(
        from_user_id=leaving["id"], to_user_id=heir["id"], object_types=frozenset({"contract"}), include_closed=False
    )
    with recorded_app.app_context(), acting_as(Actor(user_id=heir["id"], user_name=heir["name"])):
        results = host.transfer_user_items(db.session, request)
        db.session.commit()
    assert [(result.object_type, result.moved) for result in results] == [("contract", 2)]
    assert [contract_row(recorded_app, id_) for id_ in open_ids] == [("active", heir["id"])] * 2
    assert contract_row(recorded_app, ended_id) == ("ended", leaving["id"]), "closed ones stay when not asked for"
    [(actor, bulk, rows)] = recorder.bulk
    assert actor.user_id == heir["id"] and bulk.count == 2
    assert {fields_of(row)["owner_id"] for row in rows} == {(leaving["id"], heir["id"])}

    with recorded_app.app_context():  # again, closed included: only what is left moves
        results = host.transfer_user_items(
            db.session, TransferRequest(leaving["id"], heir["id"], frozenset({"contract"}))
        )
        db.session.commit()
    assert [(result.object_type, result.moved) for result in results] == [("contract", 1)]
    assert contract_row(recorded_app, ended_id) == ("ended", heir["id"])


# --- demo data ----------------------------------------------------------------------------


def test_demo_data_adds_contracts_once(recorded_app, recorder):
    from opiekun_contracts.models import Contract

    from opiekun.demo import load_demo

    with recorded_app.app_context():
        assert "contracts" in load_demo(companies=12)
        contracts = db.session.scalars(select(Contract)).all()
        assert len(contracts) == 4, "one for every third company"
        assert all(contract.owner_id == contract.company.owner_id for contract in contracts)
        assert {contract.status for contract in contracts} <= {"active", "ended"}
        assert all(contract.end_date < local_time.today() for contract in contracts if contract.status == "ended")
        assert load_demo(companies=12) == []
        assert db.session.scalar(select(func.count()).select_from(Contract)) == 4
    assert len(recorder.of("create")) == 4
    created: dict[str, int] = {}
    for actor, bulk, rows in recorder.bulk:
        assert (actor.job, bulk.operation, list(bulk.new_values)) == ("demo", "create", ["owner_id"])
        assert {fields_of(row)["owner_id"] for row in rows} == {(None, bulk.new_values["owner_id"])}
        created[bulk.object_type] = created.get(bulk.object_type, 0) + len(rows)
    assert created["company"] == created["deal"] == 12 and created["lead"] == 5, "the core's records, in bulk"
    assert set(created) == {"company", "person", "deal", "offer", "invoice", "lead"}


def test_demo_data_builds_on_the_sample_the_core_hands_over(recorded_app, monkeypatch):
    from opiekun_contracts.models import Contract

    from opiekun import demo

    monkeypatch.setattr(demo, "SAMPLE_SIZE", 6)
    with recorded_app.app_context():
        demo.load_demo(companies=12)
        sample = db.session.scalars(select(Company.id).order_by(Company.id).limit(6)).all()
        assert sorted(db.session.scalars(select(Contract.company_id))) == sample[::3]


# --- the nightly job ----------------------------------------------------------------------


def wait_for_job(app, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            state = job_state(job_id)
            if state["status"] in ("done", "failed") or time.monotonic() > deadline:
                return state
            time.sleep(0.05)


def test_the_job_ends_expired_contracts_in_the_embedded_mode(app, seller):
    expired, running, open_ended = add_contracts(
        app,
        seller["id"],
        {"name": "Wygasła", "end_date": TODAY - dt.timedelta(days=1)},
        {"name": "Trwa", "end_date": TODAY},
        {"name": "Bezterminowa", "end_date": None},
    )
    with app.app_context():
        job_id = enqueue(
            "contracts.end_expired", user_id=seller["id"], user_name=seller["name"], today=TODAY.isoformat()
        )
    state = wait_for_job(app, job_id)
    assert state["status"] == "done", state
    assert state["result"] == {"ended": 1, "today": "2026-06-15"}
    assert contract_row(app, expired) == ("ended", seller["id"])
    assert contract_row(app, running) == ("active", seller["id"]), "its last day is today"
    assert contract_row(app, open_ended) == ("active", seller["id"])

    with app.app_context():
        again = enqueue("contracts.end_expired", today=TODAY.isoformat())
    assert wait_for_job(app, again)["result"] == {"ended": 0, "today": "2026-06-15"}, "running it again changes nothing"
