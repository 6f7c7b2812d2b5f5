"""Background jobs on rq: real Redis and ``rq`` workers in production, in-process in the
embedded mode (fakeredis and a worker thread), with the same code either way.

Plugins declare jobs (:class:`JobDefinition`) and periodic runs (:class:`Schedule`)
through hooks, enqueue them with :func:`enqueue`, and report progress with
:func:`report_progress`; anyone may poll :func:`job_state` (``GET /api/v1/jobs/<id>``).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fakeredis
from flask import Flask, current_app
from redis import Redis
from rq import Queue, SimpleWorker, get_current_job
from rq.cron import CronScheduler
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import TimerDeathPenalty

from opiekun.changes import Actor, acting_as
from opiekun.extensions import db

QUEUE_NAME = "opiekun"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobDefinition:
    """A kind of background work a plugin does.

    :param name: unique, prefixed by the plugin (``ownership.apply_periods``).
    :param func: called with the keyword arguments given to :func:`enqueue`, inside an app
        context; its changes are committed when it returns. Return a small JSON-able dict
        (shown as the job's result) or ``None``.
    :param timeout: seconds before the worker gives up on one run.
    """

    name: str
    func: Callable[..., Mapping[str, Any] | None]
    description: str = ""
    timeout: int = 3600


@dataclass(frozen=True)
class Schedule:
    """Run the job ``job`` periodically: ``cron`` (``"15 2 * * *"``) or every ``interval``
    seconds, with ``kwargs``."""

    job: str
    cron: str | None = None
    interval: int | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval is None):
            raise ValueError(f"schedule of {self.job!r} needs exactly one of cron or interval")


class UnknownJob(LookupError):
    pass


# --- what runs in the worker -------------------------------------------------------------

_engine_pid = os.getpid()


def run_job(job_name: str, kwargs: Mapping[str, Any], user_id: int | None = None, user_name: str | None = None):
    """The one function rq executes: runs a registered job inside the app context."""
    global _engine_pid
    if os.getpid() != _engine_pid:  # a forked work horse must not share the parent's connections
        db.engine.dispose(close=False)
        _engine_pid = os.getpid()
    definitions = current_app.extensions["opiekun.jobs"]
    if job_name not in definitions:
        raise UnknownJob(f"job {job_name!r} is not provided by any enabled plugin")
    rq_job = get_current_job()
    actor = Actor(user_id=user_id, user_name=user_name, job=f"{job_name}#{rq_job.id[:8]}" if rq_job else job_name)
    try:
        with acting_as(actor):
            result = definitions[job_name].func(**kwargs)
            db.session.commit()
        return result
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def report_progress(done: int, total: int | None = None) -> None:
    """Tell pollers how far the current job is (no-op outside a job)."""
    job = get_current_job()
    if job is None:
        return
    job.meta["progress_done"] = done
    if total is not None:
        job.meta["progress_total"] = total
    job.save_meta()


# --- enqueueing and polling ----------------------------------------------------------------


def connection() -> Redis:
    return current_app.extensions["opiekun.redis"]


def queue() -> Queue:
    return Queue(QUEUE_NAME, connection=connection())


def enqueue(job_name: str, *, user_id: int | None = None, user_name: str | None = None, **kwargs: Any) -> str:
    """Queue a registered job; returns its id. ``user_id`` is the acting user of its changes."""
    definitions = current_app.extensions["opiekun.jobs"]
    if job_name not in definitions:
        raise UnknownJob(f"job {job_name!r} is not provided by any enabled plugin")
    embedded = current_app.extensions.get("opiekun.embedded_jobs")
    if embedded is not None:
        embedded.start_worker()
    job = queue().enqueue(
        run_job, job_name, dict(kwargs), user_id, user_name,
        job_timeout=definitions[job_name].timeout, result_ttl=7 * 24 * 3600, failure_ttl=30 * 24 * 3600,
        meta={"name": job_name, "user_id": user_id, "progress_done": 0, "progress_total": None},
        description=job_name,
    )
    return job.id


_STATUS_NAMES = {
    JobStatus.QUEUED: "queued", JobStatus.DEFERRED: "queued", JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "running", JobStatus.FINISHED: "done", JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed", JobStatus.CANCELED: "failed",
}


def job_state(job_id: str) -> dict[str, Any] | None:
    """Status (``queued``, ``running``, ``done``, ``failed``), progress and result of a job."""
    try:
        job = Job.fetch(job_id, connection=connection())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=True)
    result = job.return_value() if status == JobStatus.FINISHED else None
    error = None
    if status == JobStatus.FAILED:
        latest = job.latest_result()
        error = (latest.exc_string or "").strip().splitlines()[-1] if latest and latest.exc_string else "failed"
    return {
        "id": job.id,
        "name": job.meta.get("name", job.description or ""),
        "user_id": job.meta.get("user_id"),
        "status": _STATUS_NAMES.get(status, str(status)),
        "progress_done": job.meta.get("progress_done", 0),
        "progress_total": job.meta.get("progress_total"),
        "result": result if isinstance(result, dict) else None,
        "error": error,
    }


def cron_scheduler(app: Flask, redis: Redis) -> CronScheduler:
    """rq's cron scheduler with every enabled plugin's schedules registered."""
    scheduler = CronScheduler(connection=redis, name=f"opiekun:{os.getpid()}")
    for schedule in app.extensions["opiekun.schedules"]:
        scheduler.register(run_job, QUEUE_NAME, args=(schedule.job, dict(schedule.kwargs)),
                           cron=schedule.cron, interval=schedule.interval, name=schedule.job)
    return scheduler


# --- the embedded mode -----------------------------------------------------------------------


class ThreadWorker(SimpleWorker):
    """An rq worker that runs inside a thread of the app process (embedded mode)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # only the main thread may set signal handlers
        pass


class EmbeddedJobs:
    """fakeredis plus worker and scheduler threads, for a deployment without Redis."""

    def __init__(self, app: Flask):
        self.app = app
        self.server = fakeredis.FakeServer()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._scheduler: threading.Thread | None = None

    def connection(self) -> Redis:
        return fakeredis.FakeStrictRedis(server=self.server)

    def start_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="opiekun-jobs", daemon=True)
                self._worker.start()

    def start_scheduler(self) -> None:
        self.start_worker()
        with self._lock:
            if self._scheduler is None or not self._scheduler.is_alive():
                self._scheduler = threading.Thread(target=self._schedule, name="opiekun-schedules", daemon=True)
                self._scheduler.start()

    def _work(self) -> None:
        with self.app.app_context():
            worker = ThreadWorker([Queue(QUEUE_NAME, connection=self.connection())], connection=self.connection())
            worker.work(logging_level="WARNING", with_scheduler=False)

    def _schedule(self) -> None:
        with self.app.app_context():
            scheduler = cron_scheduler(self.app, self.connection())
            while True:
                scheduler.enqueue_jobs()
                time.sleep(max(0.5, min(scheduler.calculate_sleep_interval(), 30)))


def init_jobs(app: Flask, redis_url: str | None, definitions: list[JobDefinition], schedules: list[Schedule]) -> None:
    """Bind the app to its Redis (or to an embedded fakeredis) and register its jobs."""
    by_name: dict[str, JobDefinition] = {}
    for definition in definitions:
        if definition.name in by_name:
            raise ValueError(f"job {definition.name!r} is declared twice")
        by_name[definition.name] = definition
    for schedule in schedules:
        if schedule.job not in by_name:
            raise ValueError(f"schedule refers to unknown job {schedule.job!r}")
    app.extensions["opiekun.jobs"] = by_name
    app.extensions["opiekun.schedules"] = list(schedules)
    if redis_url:
        app.extensions["opiekun.redis"] = Redis.from_url(redis_url)
    else:
        embedded = EmbeddedJobs(app)
        app.extensions["opiekun.embedded_jobs"] = embedded
        app.extensions["opiekun.redis"] = embedded.connection()
