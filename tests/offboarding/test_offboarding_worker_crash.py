"""A transfer survives its worker dying half-way (real PostgreSQL, Redis and rq workers).

The worker process is killed (SIGKILL) while a step is in its transaction, after earlier
steps were committed. The transfer shows what was done; once its heartbeat is stale an
admin resumes it, a new worker finishes it, and every item has moved exactly once: one
moved-item row, one history entry and one new ownership period each.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import text

from opiekun.extensions import db
from opiekun.testing.apps import TEST_REDIS_URL, build_app, empty_tables, on_postgres
from opiekun.testing.clients import ApiClient
from tests.offboarding import gate_plugin
from tests.support.redis_databases import OFFBOARDING_WORKER_CRASH, redis_database_url

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not (TEST_REDIS_URL and on_postgres()), reason="needs OPIEKUN_TEST_REDIS_URL and PostgreSQL"),
]

REPOSITORY = Path(__file__).resolve().parents[2]
PLUGINS = ("ownership", "audit", "offboarding", gate_plugin.NAME)
TRANSFERS = "/offboarding/transfers"


def redis_url() -> str:
    """A Redis database of this module's own (one per xdist worker)."""
    return redis_database_url(OFFBOARDING_WORKER_CRASH)


@pytest.fixture(scope="module")
def production(tmp_path_factory, fresh_database):
    instance_path = tmp_path_factory.mktemp("offboarding-crash")
    database_url = fresh_database.url()
    url = redis_url()
    app = build_app(instance_path, database_url, extra_plugins=[gate_plugin], redis_url=url, plugins=PLUGINS)
    redis = Redis.from_url(url)
    redis.flushdb()
    yield app, database_url, url, instance_path, redis
    redis.flushdb()
    empty_tables(app)
    with app.app_context():
        db.engine.dispose()


def worker(production, log: Path, *arguments: str) -> subprocess.Popen:
    app, database_url, url, instance_path, _ = production
    env = {
        **os.environ,
        "OPIEKUN_DATABASE_URL": database_url,
        "OPIEKUN_REDIS_URL": url,
        "OPIEKUN_INSTANCE_PATH": str(instance_path),
        "OPIEKUN_SECRET_KEY": app.config["SECRET_KEY"],
        "OPIEKUN_PLUGINS": ",".join(PLUGINS),
        "OPIEKUN_PLUGIN_MODULES": gate_plugin.__name__,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
    }
    script = Path(sys.executable).with_name("opiekun")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from opiekun.cli import main; main()"]
    with log.open("w") as output:
        return subprocess.Popen(
            [*command, "worker", *arguments],
            env=env,
            cwd=instance_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(condition, what: str, log: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s; worker log:\n{log.read_text()}"
        time.sleep(0.05)
    return result


def scalar(app, sql: str):
    with app.app_context():
        return db.session.scalar(text(sql))


def test_killing_the_worker_mid_transfer_and_resuming_moves_every_item_exactly_once(production, tmp_path):
    app, *_, redis = production
    api = ApiClient(app)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    seller = api.create_user("seller@firma.example", name="Stefan Sprzedawca")
    heir = api.create_user("heir@firma.example", name="Olga Inna")
    api.post("/pipelines", admin, json={"name": "Sprzedaż", "stages": [{"name": "Kontakt"}]})
    firms = [api.post("/companies", seller, json={"name": f"Firma {n}"}).get_json()["id"] for n in range(5)]
    deals = [api.post("/deals", seller, json={"name": f"Umowa {n}"}).get_json()["id"] for n in range(4)]
    assert api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"}).status_code == 200

    response = api.post(
        TRANSFERS,
        admin,
        json={"from_user_id": seller["id"], "to_user_id": heir["id"], "object_types": ["company", "deal"]},
    )
    assert response.status_code == 202, response.get_json()
    transfer_id = response.get_json()["id"]

    first_log = tmp_path / "worker-1.log"
    doomed = worker(production, first_log)
    try:
        wait_until(lambda: redis.exists(gate_plugin.REACHED_KEY), "the deal step", first_log)
        state = api.get(f"{TRANSFERS}/{transfer_id}", admin).get_json()
        assert state["status"] == "running" and state["progress"] == {"done": 5, "total": 9}
        second = api.post(TRANSFERS, admin, json={"from_user_id": seller["id"], "to_user_id": admin["id"]})
        assert second.status_code == 409, "one transfer of a user at a time"
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            os.killpg(doomed.pid, signal.SIGKILL)

    owner_of = {record_id: api.get(f"/companies/{record_id}", admin).get_json()["owner_id"] for record_id in firms}
    assert set(owner_of.values()) == {heir["id"]}, "the committed step stays done"
    assert {api.get(f"/deals/{record_id}", admin).get_json()["owner_id"] for record_id in deals} == {seller["id"]}, (
        "the step that was cut off left nothing behind"
    )
    state = api.get(f"{TRANSFERS}/{transfer_id}", admin).get_json()
    assert state["status"] == "running" and [step["done"] for step in state["steps"]] == [True, False]

    too_early = api.post(f"{TRANSFERS}/{transfer_id}/resume", admin)
    assert too_early.status_code == 409, "its heartbeat is recent: the worker might still be alive"
    app.config["OFFBOARDING_STALE_AFTER"] = 0
    try:
        resumed = api.post(f"{TRANSFERS}/{transfer_id}/resume", admin)
    finally:
        app.config.pop("OFFBOARDING_STALE_AFTER")
    assert resumed.status_code == 202, resumed.get_json()
    redis.set(gate_plugin.GATE_KEY, 1, ex=600)
    second_log = tmp_path / "worker-2.log"
    finisher = worker(production, second_log, "--burst")
    assert finisher.wait(90) == 0, second_log.read_text()

    state = api.get(f"{TRANSFERS}/{transfer_id}", admin).get_json()
    assert state["status"] == "done", (state, second_log.read_text())
    assert state["progress"] == {"done": 9, "total": 9} and state["counts"] == {
        "company": {"owner": 5},
        "deal": {"owner": 4},
    }
    assert {api.get(f"/deals/{record_id}", admin).get_json()["owner_id"] for record_id in deals} == {heir["id"]}
    assert scalar(app, f"SELECT count(*) FROM offboarding_moved_items WHERE transfer_id = {transfer_id}") == 9
    assert scalar(app, "SELECT count(DISTINCT (object_type, object_id)) FROM offboarding_moved_items") == 9
    moved_entries = scalar(
        app,
        "SELECT count(*) FROM audit_entries WHERE operation = 'owner_changed' "
        f"AND context->>'offboarding_transfer_id' = '{transfer_id}'",
    )
    assert moved_entries == 9, "one history entry per item: nothing moved twice"
    assert scalar(app, f"SELECT count(*) FROM ownership_assignments WHERE user_id = {heir['id']}") == 9
