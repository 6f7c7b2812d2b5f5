"""A partner's plugin through its whole life on a live database (issue 18), as a team's
operator runs it: the example ``contracts`` plugin with data → switched off (init works,
routes and command gone, data kept, its tables still guard the companies they name) → a
revision added to it while off (not applied) → switched on (data back, branch upgraded) →
off and uninstalled (tables gone, its jobs waiting in the queue removed, the rest works)
→ on again (fresh).

The plugin is a copy of ``examples/opiekun-contracts`` put first on ``PYTHONPATH``, so
the revision written here never touches the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import opiekun_contracts
import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import inspect

from opiekun.jobs import QUEUE_NAME
from opiekun.testing.apps import TEST_REDIS_URL, build_app, close_app
from opiekun.testing.clients import ApiClient
from tests.core.test_plugin_lifecycle import database, fill_in, opiekun, query, revisions
from tests.support.redis_databases import PARTNER_PLUGIN_LIFECYCLE, redis_database_url


def partner_copy(tmp_path: Path) -> dict[str, str]:
    """The example plugin copied to a folder of its own; the environment that uses it."""
    folder = tmp_path / "partner"
    shutil.copytree(
        Path(opiekun_contracts.__file__).parent,
        folder / "opiekun_contracts",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return {"PYTHONPATH": str(folder)}


def columns_of(database_url: str, table: str) -> set[str]:
    with database(database_url) as connection:
        return {column["name"] for column in inspect(connection).get_columns(table)}


def test_the_example_partner_plugin_is_switched_off_upgraded_back_on_and_uninstalled(tmp_path, fresh_database):
    url = fresh_database.url()
    partner = partner_copy(tmp_path)
    everything = build_app(tmp_path / "all", url)
    api = ApiClient(everything)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    company = api.post("/companies", admin, json={"name": "Agro-Tech"}).get_json()
    contract = api.post(
        "/contracts",
        admin,
        json={"name": "Serwis 2027", "company_id": company["id"], "start_date": "2026-01-01", "value": "1200.00"},
    )
    assert contract.status_code == 201, contract.get_json()
    close_app(everything)

    off = opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="contracts", **partner)
    assert off.returncode == 0, off.stderr
    assert "plugin contracts is off: its tables and data are kept (revision contracts_0002)" in off.stdout
    no_command = opiekun(url, tmp_path, "contracts-report", OPIEKUN_PLUGINS_DISABLED="contracts", **partner)
    assert no_command.returncode != 0 and "No such command" in no_command.stderr

    reduced = build_app(tmp_path / "reduced", url, plugins_disabled=("contracts",))
    api_off = ApiClient(reduced)
    assert api_off.get("/contracts", admin).status_code == 404, "its routes are gone"
    refused = api_off.delete(f"/companies/{company['id']}", admin)
    assert refused.status_code == 409, "its table still names the company: the company stays"
    assert api_off.get(f"/companies/{company['id']}", admin).status_code == 200
    close_app(reduced)

    written = opiekun(
        url,
        tmp_path,
        "plugins",
        "migration",
        "contracts",
        "-m",
        "notice period",
        OPIEKUN_PLUGINS_DISABLED="contracts",
        **partner,
    )
    assert written.returncode == 0, written.stderr
    [revision] = (tmp_path / "partner" / "opiekun_contracts" / "migrations").glob("contracts_0003*.py")
    fill_in(
        revision,
        'op.add_column("contracts", sa.Column("notice_days", sa.Integer()))',
        'with op.batch_alter_table("contracts") as batch:\n        batch.drop_column("notice_days")',
    )
    still_off = opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="contracts", **partner)
    assert still_off.returncode == 0, still_off.stderr
    assert "contracts_0002" in revisions(url) and "notice_days" not in columns_of(url, "contracts")
    listed = opiekun(url, tmp_path, "plugins", OPIEKUN_PLUGINS_DISABLED="contracts", **partner)
    assert "schema: tables kept while off (database contracts_0002, code contracts_0003)" in listed.stdout

    on = opiekun(url, tmp_path, "init", **partner)
    assert on.returncode == 0, on.stderr
    assert "contracts_0003" in revisions(url) and "notice_days" in columns_of(url, "contracts")
    assert "plugin contracts is back (off " in on.stdout and "nothing to change" in on.stdout
    report = opiekun(url, tmp_path, "contracts-report", **partner)
    assert report.returncode == 0, report.stderr
    assert "active: 1 contract(s), value 1200.00" in report.stdout, "the data is back"

    refused = opiekun(url, tmp_path, "plugins", "uninstall", "contracts", "--yes", **partner)
    assert refused.returncode == 1 and "the plugin 'contracts' is enabled: switch it off first" in refused.stderr
    gone = opiekun(
        url, tmp_path, "plugins", "uninstall", "contracts", "--yes", OPIEKUN_PLUGINS_DISABLED="contracts", **partner
    )
    assert gone.returncode == 0, gone.stderr
    assert "table contracts: 1 row(s)" in gone.stdout
    assert not any(name.startswith("contracts_") for name in revisions(url))
    assert query(url, "SELECT count(*) FROM plugin_activity WHERE plugin = 'contracts'") == [(0,)]

    without = build_app(tmp_path / "without", url, plugins_disabled=("contracts",))
    assert ApiClient(without).delete(f"/companies/{company['id']}", admin).status_code == 204, "nothing names it now"
    close_app(without)

    fresh = opiekun(url, tmp_path, "init", **partner)
    assert fresh.returncode == 0, fresh.stderr
    assert "is back" not in fresh.stdout, "installed afresh: no time off to catch up with"
    assert "contracts_0003" in revisions(url) and query(url, "SELECT count(*) FROM contracts") == [(0,)]


def own_redis_url() -> str:
    """A Redis database of this module's own (one per xdist worker), beside the given one."""
    return redis_database_url(PARTNER_PLUGIN_LIFECYCLE)


@pytest.mark.skipif(not TEST_REDIS_URL, reason="set OPIEKUN_TEST_REDIS_URL: the queue must outlive the process")
def test_uninstalling_a_plugin_removes_its_jobs_waiting_in_the_queue(tmp_path, fresh_database):
    url, redis_url = fresh_database.url(), own_redis_url()
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    app = build_app(tmp_path / "all", url, redis_url=redis_url)
    with app.app_context():
        from opiekun.jobs import enqueue

        waiting = enqueue("contracts.end_expired")
        other = enqueue("ownership.apply_periods")
    close_app(app)
    queue = Queue(QUEUE_NAME, connection=redis)
    assert set(queue.get_job_ids()) == {waiting, other}

    gone = opiekun(
        url,
        tmp_path,
        "plugins",
        "uninstall",
        "contracts",
        "--yes",
        OPIEKUN_PLUGINS_DISABLED="contracts",
        OPIEKUN_REDIS_URL=redis_url,
    )
    assert gone.returncode == 0, gone.stderr
    assert "its background jobs waiting in the queue: 1" in gone.stdout
    assert queue.get_job_ids() == [other], "the other plugins' jobs stay"
    assert not redis.exists(f"rq:job:{waiting}")
    redis.flushdb()
