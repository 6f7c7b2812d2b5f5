"""Background jobs for real.

Embedded mode (always): a plugin's job is enqueued, runs in the in-process worker thread
(fakeredis), reports progress, and ``GET /api/v1/jobs/<id>`` shows it queued, running,
done or failed; its changes are committed whole (or not at all) and attributed to the user
who started it. Periodic schedules run in the embedded scheduler thread.

Production mode (``@pytest.mark.redis``, only with ``OPIEKUN_TEST_REDIS_URL``): the same
jobs go to a real Redis and are run by a real ``opiekun worker --burst`` process, and
``opiekun scheduler`` / :func:`opiekun.jobs.cron_scheduler` enqueue the periodic ones. The
subprocesses load the test plugin from ``tests/core/job_fixture_plugin.py`` through
``OPIEKUN_PLUGIN_MODULES``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from rq import Queue
from rq.cron import CronScheduler, get_cron_job_ids
from rq.job import Job
from sqlalchemy import select

from opiekun import jobs
from opiekun.cli import cli
from opiekun.extensions import db
from opiekun.jobs import JobDefinition, Schedule, UnknownJob
from opiekun.models import Company, Notification
from opiekun.testing.apps import TEST_REDIS_URL, build_app, empty_tables
from opiekun.testing.clients import ApiClient
from tests.core import job_fixture_plugin as fixture_plugin
from tests.core.job_fixture_plugin import CREATE_COMPANIES, NAP, TICK, TICKS_KEY
from tests.support.redis_databases import JOBS, redis_database_url

REPOSITORY = Path(__file__).resolve().parents[2]
PLUGIN_MODULE = fixture_plugin.__name__  # tests.core.job_fixture_plugin
FINISHED = ("done", "failed")
#: The apps here run the core and the test plugin only (installed partner plugins may
#: bring schedules of their own).
ONLY_THE_TEST_PLUGIN = (fixture_plugin.NAME,)


# --- helpers ----------------------------------------------------------------------------------


def job_of(api: ApiClient, user: dict | None, job_id: str):
    return api.get(f"/jobs/{job_id}", user)


def wait_for_job(api: ApiClient, user: dict, job_id: str, until, timeout: float = 30) -> dict:
    """Poll ``GET /jobs/<id>`` as ``user`` until ``until(state)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        response = job_of(api, user, job_id)
        assert response.status_code == 200, response.get_json()
        state = response.get_json()
        if until(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} did not get there in {timeout} s; last state: {state}")
        time.sleep(0.02)


def finished(state: dict) -> bool:
    return state["status"] in FINISHED


def running_part_done(state: dict) -> bool:
    return state["status"] == "running" and state["progress_done"] == 1


def companies(app: Flask) -> dict[str, tuple[int | None, int | None]]:
    """name -> (owner_id, created_by_id) of every company, read in a fresh session."""
    with app.app_context():
        rows = db.session.execute(select(Company.name, Company.owner_id, Company.created_by_id)).all()
        return {name: (owner_id, created_by_id) for name, owner_id, created_by_id in rows}


def job_notifications(app: Flask) -> list[tuple[int, str, int, dict]]:
    """The fixture plugin's trace of job changes: (user_id, message, object_id, data)."""
    with app.app_context():
        rows = db.session.scalars(
            select(Notification).where(Notification.kind == f"{fixture_plugin.NAME}.changed").order_by(Notification.id)
        ).all()
        return [(row.user_id, row.message, row.object_id, row.data) for row in rows]


# --- the embedded mode ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jobs_app(tmp_path_factory, fresh_database):
    """An embedded-mode app (no Redis: fakeredis and a worker thread) with the test plugin."""
    application = build_app(
        tmp_path_factory.mktemp("jobs"),
        fresh_database.url(),
        extra_plugins=[fixture_plugin],
        plugins=ONLY_THE_TEST_PLUGIN,
    )
    assert "opiekun.embedded_jobs" in application.extensions
    yield application
    application.extensions["opiekun.embedded_jobs"].stop_scheduler()
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def api(jobs_app):
    """The API of the jobs app (the users fixtures of conftest create their users there)."""
    fixture_plugin.seen_change_sets.clear()
    with jobs_app.app_context():
        jobs.connection().delete(TICKS_KEY)
    yield ApiClient(jobs_app)
    empty_tables(jobs_app)


def test_a_plugin_job_runs_in_the_embedded_worker_with_progress_and_the_users_name(
    jobs_app, api, seller, other_seller, manager
):
    gate = uuid.uuid4().hex
    with jobs_app.app_context():
        first = jobs.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Alfa", "Beta", "Gamma"], gate=gate)
        second = jobs.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Delta"])
    try:
        running = wait_for_job(api, seller, first, running_part_done)
        assert running["name"] == CREATE_COMPANIES and running["progress_total"] == 3
        assert running["result"] is None and running["error"] is None
        waiting = job_of(api, seller, second).get_json()
        assert waiting["status"] == "queued", "one worker thread: the second job waits for the first"
        assert waiting["progress_done"] == 0 and waiting["progress_total"] is None
        assert companies(jobs_app) == {}, "nothing is visible before the job commits"
    finally:
        with jobs_app.app_context():
            fixture_plugin.open_gate(jobs.connection(), gate)

    done = wait_for_job(api, seller, first, finished)
    label = f"Stefan Sprzedawca (job {CREATE_COMPANIES}#{first[:8]})"
    assert done["status"] == "done", done
    assert (done["progress_done"], done["progress_total"], done["error"]) == (3, 3, None)
    assert done["result"]["created"] == 3 and done["result"]["actor"] == label
    assert wait_for_job(api, seller, second, finished)["status"] == "done"

    # committed, owned by and attributed to the user who started the job
    assert companies(jobs_app) == dict.fromkeys(("Alfa", "Beta", "Gamma", "Delta"), (seller["id"], seller["id"]))
    trace = job_notifications(jobs_app)
    assert len(trace) == 4 and {user_id for user_id, *_ in trace} == {seller["id"]}
    assert [message for _, message, _, _ in trace[:3]] == [label] * 3
    assert {data["job"] for *_, data in trace} == {
        f"{CREATE_COMPANIES}#{first[:8]}",
        f"{CREATE_COMPANIES}#{second[:8]}",
    }
    actors = {change_set.actor for change_set in fixture_plugin.seen_change_sets}
    assert {actor.user_id for actor in actors} == {seller["id"]}
    assert {actor.user_name for actor in actors} == {"Stefan Sprzedawca"}

    # who may look at it
    assert job_of(api, other_seller, first).status_code == 403
    assert job_of(api, manager, first).status_code == 200, "jobs.view_all sees every job"
    assert job_of(api, None, first).status_code == 401
    assert job_of(api, seller, str(uuid.uuid4())).status_code == 404


def test_a_failing_job_is_failed_with_its_error_and_leaves_nothing_behind(jobs_app, api, seller):
    with jobs_app.app_context():
        job_id = jobs.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Epsilon", "Zeta", "Eta"], fail_at=2)
    state = wait_for_job(api, seller, job_id, finished)
    assert state["status"] == "failed"
    assert state["error"] == "ValueError: company 2 of 3 refused on purpose"
    assert (state["progress_done"], state["progress_total"], state["result"]) == (2, 3, None)
    assert companies(jobs_app) == {} and job_notifications(jobs_app) == [], "a failed job commits nothing"

    with jobs_app.app_context():  # the worker thread lives on and runs the next job
        again = jobs.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Theta"])
    assert wait_for_job(api, seller, again, finished)["status"] == "done"
    assert companies(jobs_app) == {"Theta": (seller["id"], seller["id"])}


def test_a_job_enqueued_on_commit_waits_for_the_commit_and_is_dropped_by_a_rollback(jobs_app, api, seller):
    with jobs_app.app_context():
        db.session.add(Company(name="Kappa", owner_id=seller["id"]))
        dropped = jobs.enqueue_on_commit(CREATE_COMPANIES, user_id=seller["id"], names=["Lambda"])
        db.session.flush()
        db.session.rollback()
        assert jobs.queue().count == 0
    assert job_of(api, seller, dropped).status_code == 404, "a rolled-back transaction starts no job"

    with jobs_app.app_context():
        db.session.add(Company(name="Kappa", owner_id=seller["id"]))
        kept = jobs.enqueue_on_commit(CREATE_COMPANIES, user_id=seller["id"], names=["Lambda"])
        assert job_of(api, seller, kept).status_code == 404, "not queued before the commit"
        db.session.commit()
    assert wait_for_job(api, seller, kept, finished)["status"] == "done"
    assert set(companies(jobs_app)) == {"Kappa", "Lambda"}
    with jobs_app.app_context():
        db.session.commit()  # a later transaction of the same session starts nothing again
        assert jobs.queue().count == 0
        with pytest.raises(UnknownJob):
            jobs.enqueue_on_commit("nope.nothing")


def test_a_job_over_its_timeout_is_stopped_and_failed(jobs_app, api, seller):
    with jobs_app.app_context():
        job_id = jobs.enqueue(NAP, user_id=seller["id"], seconds=30)
    started = time.monotonic()
    state = wait_for_job(api, seller, job_id, finished, timeout=20)
    assert state["status"] == "failed" and state["error"].startswith("JobTimeoutException"), state
    assert time.monotonic() - started < 15


def test_unknown_job_names_are_refused(jobs_app, api, seller):
    with jobs_app.app_context():
        with pytest.raises(UnknownJob, match="'nope.nothing' is not provided by any enabled plugin"):
            jobs.enqueue("nope.nothing", user_id=seller["id"])
        assert jobs.queue().count == 0
        # a job left in the queue by a deployment that had the plugin (rq does not check)
        orphan = jobs.queue().enqueue(
            jobs.run_job, "gone.job", {}, seller["id"], None, meta={"name": "gone.job", "user_id": seller["id"]}
        )
        jobs_app.extensions["opiekun.embedded_jobs"].start_worker()
    state = wait_for_job(api, seller, orphan.id, finished)
    assert state["status"] == "failed"
    assert state["error"] == "UnknownJob: job 'gone.job' is not provided by any enabled plugin"


def test_the_embedded_scheduler_runs_interval_schedules(jobs_app, api, seller, manager):
    embedded = jobs_app.extensions["opiekun.embedded_jobs"]
    with jobs_app.app_context():
        redis = jobs.connection()
    embedded.start_scheduler()
    try:
        deadline = time.monotonic() + 15
        while int(redis.get(TICKS_KEY) or 0) < 3:
            assert time.monotonic() < deadline, "the interval schedule did not run three times"
            time.sleep(0.05)
    finally:
        embedded.stop_scheduler()
    time.sleep(0.3)  # a tick enqueued just before the stop still runs
    ticks = int(redis.get(TICKS_KEY))
    time.sleep(1.5)
    assert int(redis.get(TICKS_KEY)) == ticks, "a stopped scheduler enqueues nothing more"

    job_ids = get_cron_job_ids(TICK, redis)
    assert len(job_ids) == ticks
    enqueued_at = sorted(Job.fetch(job_id, connection=redis).enqueued_at for job_id in job_ids)
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(enqueued_at, enqueued_at[1:], strict=False)]
    assert all(0.8 < gap < 5 for gap in gaps), f"every second, not faster: {gaps}"
    state = job_of(api, manager, job_ids[0]).get_json()
    assert state["name"] == TICK and state["status"] == "done" and state["result"] == {"ticks": ticks}
    assert job_of(api, seller, job_ids[0]).status_code == 403, "a scheduled job belongs to no user"


def test_worker_and_scheduler_commands_need_redis(jobs_app):
    runner = jobs_app.test_cli_runner()
    for command in (["worker", "--burst"], ["scheduler"]):
        result = runner.invoke(cli, command)
        assert result.exit_code != 0
        assert "OPIEKUN_REDIS_URL is not set" in result.output


def test_jobs_and_schedules_are_checked_when_the_app_is_built():
    def noop():
        return None

    with pytest.raises(ValueError, match="exactly one of cron or interval"):
        Schedule("x.y")
    with pytest.raises(ValueError, match="exactly one of cron or interval"):
        Schedule("x.y", cron="* * * * *", interval=5)
    definition = JobDefinition("x.y", noop)
    with pytest.raises(ValueError, match="declared twice"):
        jobs.init_jobs(Flask("twice"), None, [definition, definition], [])
    with pytest.raises(ValueError, match="unknown job 'x.z'"):
        jobs.init_jobs(Flask("unknown"), None, [definition], [Schedule("x.z", interval=5)])


# --- production mode: a real Redis, real rq worker and scheduler processes --------------------------

needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="set OPIEKUN_TEST_REDIS_URL to run against a real Redis")


def _jobs_redis_url() -> str:
    """A Redis database of this module's own (one per xdist worker), next to the one given."""
    return redis_database_url(JOBS)


@dataclass
class Production:
    app: Flask
    api: ApiClient
    redis: Redis
    redis_url: str
    database_url: str
    instance_path: Path

    def opiekun(self, *arguments: str, log: Path) -> subprocess.Popen:
        """Start the ``opiekun`` command line in a process of its own, configured like the app."""
        env = {
            **os.environ,
            "OPIEKUN_DATABASE_URL": self.database_url,
            "OPIEKUN_REDIS_URL": self.redis_url,
            "OPIEKUN_INSTANCE_PATH": str(self.instance_path),
            "OPIEKUN_SECRET_KEY": self.app.config["SECRET_KEY"],
            "OPIEKUN_PLUGINS": ",".join(self.app.extensions["opiekun.plugins"].names),
            "OPIEKUN_PLUGIN_MODULES": PLUGIN_MODULE,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
        }
        script = Path(sys.executable).with_name("opiekun")
        command = [str(script)] if script.exists() else [sys.executable, "-c", "from opiekun.cli import main; main()"]
        with log.open("w") as output:
            return subprocess.Popen(
                [*command, *arguments],
                env=env,
                cwd=self.instance_path,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def burst_worker(self, log: Path, timeout: float = 90) -> str:
        """Run ``opiekun worker --burst`` until the queue is empty; return its output."""
        worker = self.opiekun("worker", "--burst", log=log)
        try:
            assert worker.wait(timeout) == 0, log.read_text()
        finally:
            stop(worker)
        return log.read_text()

    def enqueue(self, job_name: str, **kwargs) -> str:
        with self.app.app_context():
            return jobs.enqueue(job_name, **kwargs)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(scope="module")
def production_app(tmp_path_factory, fresh_database):
    if not TEST_REDIS_URL:
        pytest.skip("set OPIEKUN_TEST_REDIS_URL to run against a real Redis")
    instance_path = tmp_path_factory.mktemp("jobs-production")
    database_url = fresh_database.url()
    redis_url = _jobs_redis_url()
    application = build_app(
        instance_path, database_url, extra_plugins=[fixture_plugin], redis_url=redis_url, plugins=ONLY_THE_TEST_PLUGIN
    )
    assert "opiekun.embedded_jobs" not in application.extensions
    yield application, database_url, redis_url, instance_path
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def production(production_app):
    application, database_url, redis_url, instance_path = production_app
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    yield Production(application, ApiClient(application), redis, redis_url, database_url, instance_path)
    redis.flushdb()
    redis.close()
    empty_tables(application)


@pytest.mark.redis
@needs_redis
def test_a_real_rq_worker_process_runs_the_jobs(production, tmp_path):
    api = production.api
    seller = api.create_user("seller@firma.example", name="Stefan Sprzedawca")
    other = api.create_user("other@firma.example", name="Olga Inna")
    manager = api.create_user("manager@firma.example", role="manager", name="Marta Manager")
    gate = uuid.uuid4().hex
    first = production.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Alfa", "Beta", "Gamma"], gate=gate)
    failing = production.enqueue(CREATE_COMPANIES, user_id=seller["id"], names=["Delta", "Epsilon"], fail_at=2)
    slow = production.enqueue(NAP, user_id=seller["id"], seconds=30)
    with production.app.app_context():
        orphan = (
            jobs.queue()
            .enqueue(
                jobs.run_job, "gone.job", {}, seller["id"], None, meta={"name": "gone.job", "user_id": seller["id"]}
            )
            .id
        )
    assert Queue(jobs.QUEUE_NAME, connection=production.redis).count == 4, "enqueued to the real Redis"
    assert job_of(api, seller, first).get_json()["status"] == "queued"

    log = tmp_path / "worker.log"
    worker = production.opiekun("worker", "--burst", log=log)
    try:
        running = wait_for_job(api, seller, first, running_part_done, timeout=60)
        assert running["progress_total"] == 3
        assert job_of(api, seller, failing).get_json()["status"] == "queued"
        production.redis.set(fixture_plugin.gate_key(gate), 1, ex=600)
        assert worker.wait(90) == 0, log.read_text()
    finally:
        production.redis.set(fixture_plugin.gate_key(gate), 1, ex=600)
        stop(worker)
    output = log.read_text()

    label = f"Stefan Sprzedawca (job {CREATE_COMPANIES}#{first[:8]})"
    done = job_of(api, seller, first).get_json()
    assert done["status"] == "done", output
    assert (done["progress_done"], done["progress_total"]) == (3, 3) and done["result"]["actor"] == label
    failed = job_of(api, seller, failing).get_json()
    assert (failed["status"], failed["error"]) == ("failed", "ValueError: company 2 of 2 refused on purpose"), output
    timed_out = job_of(api, seller, slow).get_json()
    assert timed_out["status"] == "failed" and timed_out["error"].startswith("JobTimeoutException"), timed_out
    unknown = job_of(api, seller, orphan).get_json()
    assert unknown["error"] == "UnknownJob: job 'gone.job' is not provided by any enabled plugin"

    # the worker process committed the changes, as the user, through the change stream
    assert companies(production.app) == dict.fromkeys(("Alfa", "Beta", "Gamma"), (seller["id"], seller["id"]))
    trace = job_notifications(production.app)
    assert [(user_id, message) for user_id, message, _, _ in trace] == [(seller["id"], label)] * 3

    assert job_of(api, other, first).status_code == 403
    assert job_of(api, manager, first).status_code == 200


@pytest.mark.redis
@needs_redis
def test_the_cron_scheduler_enqueues_due_jobs_into_redis_for_the_workers(production, tmp_path):
    manager = production.api.create_user("manager@firma.example", role="manager", name="Marta Manager")
    scheduler = jobs.cron_scheduler(production.app, production.redis)
    assert [cron_job.name for cron_job in scheduler.get_jobs()] == [TICK]
    assert [cron_job.name for cron_job in scheduler.enqueue_jobs()] == [TICK], "an interval schedule runs at once"
    assert scheduler.enqueue_jobs() == [], "and then not before its interval"
    [job_id] = get_cron_job_ids(TICK, production.redis)
    queued = job_of(production.api, manager, job_id).get_json()
    assert (queued["name"], queued["status"]) == (TICK, "queued")

    production.burst_worker(tmp_path / "worker.log")
    done = job_of(production.api, manager, job_id).get_json()
    assert (done["status"], done["result"]) == ("done", {"ticks": 1})
    assert int(production.redis.get(TICKS_KEY)) == 1


@pytest.mark.redis
@needs_redis
def test_the_opiekun_scheduler_process_registers_the_plugins_schedules(production, tmp_path):
    log = tmp_path / "scheduler.log"
    scheduler = production.opiekun("scheduler", log=log)
    try:
        deadline = time.monotonic() + 30
        while len(get_cron_job_ids(TICK, production.redis)) < 2:
            assert scheduler.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"no periodic jobs enqueued:\n{log.read_text()}"
            time.sleep(0.1)
        registered = CronScheduler.all(production.redis)
        assert [entry.name for entry in registered if entry.name.endswith(f":{scheduler.pid}")], registered
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(15) == 0, log.read_text()
    finally:
        stop(scheduler)
    assert not [entry for entry in CronScheduler.all(production.redis) if entry.name.endswith(f":{scheduler.pid}")]
    queue = Queue(jobs.QUEUE_NAME, connection=production.redis)
    assert queue.count >= 2
    assert {Job.fetch(job_id, connection=production.redis).meta["name"] for job_id in queue.job_ids} == {TICK}


def test_a_traceback_kept_by_rq_is_summed_up_like_an_error_the_job_noted():
    """Whichever path reports a failure (the job's own note, or rq's kept traceback when
    the note was lost), pollers read the same ``Type: message``."""
    kept = 'Traceback (most recent call last):\n  File "x.py", line 1\nrq.timeouts.JobTimeoutException: Task exceeded'
    assert jobs.traceback_summary(kept) == "JobTimeoutException: Task exceeded"
    assert jobs.traceback_summary("") is None
    assert jobs.error_summary(ValueError("bad\nsecond line")) == "ValueError: bad"


@pytest.mark.redis
@needs_redis
def test_a_worker_stops_its_command_listener_at_once(production):
    """``opiekun worker`` must stop within seconds of SIGTERM (a deployment restarts it on
    every release). rq listens for commands in a thread reading with a 60 s timeout; with
    rq 3.0 and redis-py 8.2 the listener's UNSUBSCRIBE answer could start another such read
    before the thread was told to stop, and the worker then took a minute to stop, about
    one time in six. Twenty starts and stops of the listener, each within 5 s."""
    import threading

    for attempt in range(20):
        worker = jobs.ProcessWorker([Queue(jobs.QUEUE_NAME, connection=production.redis)], connection=production.redis)
        worker.subscribe()
        stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
        started = time.monotonic()
        stopping.start()
        stopping.join(5)
        assert not stopping.is_alive(), f"attempt {attempt + 1}: the listener was still reading after 5 s"
        assert time.monotonic() - started < 5
