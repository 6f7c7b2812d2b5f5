"""Background jobs on rq: real Redis and ``rq`` workers in production, in-process in the
embedded mode (fakeredis and a worker thread), with the same code either way.

Plugins declare jobs (:class:`JobDefinition`) and periodic runs (:class:`Schedule`)
through hooks, enqueue them with :func:`enqueue` (or :func:`enqueue_on_commit`, when the
job reads what the current transaction writes), and report progress with
:func:`report_progress`; anyone may poll :func:`job_state` (``GET /api/v1/jobs/<id>``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fakeredis
from flask import Flask, current_app
from redis import Redis
from rq import Queue, SimpleWorker, Worker, get_current_job
from rq.cron import CronScheduler
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.timeouts import TimerDeathPenalty
from sqlalchemy import event
from sqlalchemy.orm import Session

from opiekun.changes import Actor, acting_as
from opiekun.extensions import db
from opiekun.models import User

QUEUE_NAME = "opiekun"
RESULT_TTL = 7 * 24 * 3600
FAILURE_TTL = 30 * 24 * 3600
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
    """The one function rq executes: runs a registered job inside the app context.

    Each run gets an app context (and so a database session and ``g``) of its own, even in
    the embedded worker thread that runs job after job; its changes are committed when the
    job's function returns and rolled back when it raises.
    """
    global _engine_pid
    app = current_app._get_current_object()
    if os.getpid() != _engine_pid:  # a forked work horse must not share the parent's connections
        db.engine.dispose(close=False)
        _engine_pid = os.getpid()
    rq_job = get_current_job()
    try:
        definition = _definition(job_name)
        with app.app_context():
            try:
                if user_id is not None and user_name is None:
                    user = db.session.get(User, user_id)
                    user_name = user.name if user is not None else None
                actor = Actor(
                    user_id=user_id, user_name=user_name, job=f"{job_name}#{rq_job.id[:8]}" if rq_job else job_name
                )
                with acting_as(actor):
                    result = definition.func(**kwargs)
                    db.session.commit()
                return result
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()
    except BaseException as error:
        _note_error(rq_job, error)
        raise


def error_summary(error: BaseException) -> str:
    """A one-line ``Type: message`` of an error, at most 500 characters (a traceback's last
    line is not always the message: SQLAlchemy ends with a link, chained errors with the
    outer one)."""
    lines = str(error).strip().splitlines()
    return (f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__)[:500]


def traceback_summary(exc_string: str | None) -> str | None:
    """The ``Type: message`` line of a traceback rq kept, written as :func:`error_summary`
    writes it (the type without its module: ``rq.timeouts.JobTimeoutException: …`` is
    ``JobTimeoutException: …``), for a job whose own summary was not saved."""
    lines = (exc_string or "").strip().splitlines()
    if not lines:
        return None
    kind, separator, message = lines[-1].partition(": ")
    return (kind.rsplit(".", 1)[-1] + separator + message)[:500]


def _note_error(rq_job: Job | None, error: BaseException) -> None:
    """Keep the error's one-line summary for pollers."""
    if rq_job is None:
        return
    rq_job.meta["error"] = error_summary(error)
    try:
        rq_job.save_meta()
    except Exception:  # noqa: BLE001 - the job's own failure is what must be reported
        log.warning("could not save the error of job %s", rq_job.id, exc_info=True)


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
    """Queue a registered job now; returns its id. ``user_id`` is the acting user of its
    changes. Inside a transaction that writes what the job reads, use
    :func:`enqueue_on_commit`."""
    return _enqueue(job_name, None, user_id, user_name, kwargs)


def _definition(job_name: str) -> JobDefinition:
    """The registered job ``job_name``; :class:`UnknownJob` when no enabled plugin has it."""
    definitions = current_app.extensions["opiekun.jobs"]
    if job_name not in definitions:
        raise UnknownJob(f"job {job_name!r} is not provided by any enabled plugin")
    return definitions[job_name]


def _rq_job(
    job_name: str, user_id: int | None, user_name: str | None, kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments and options rq queues a registered job with (now or later)."""
    arguments = (run_job, job_name, dict(kwargs), user_id, user_name)
    options = {
        "job_timeout": _definition(job_name).timeout,
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "meta": _initial_meta(job_name, user_id),
        "description": job_name,
    }
    return arguments, options


def _enqueue(
    job_name: str, job_id: str | None, user_id: int | None, user_name: str | None, kwargs: Mapping[str, Any]
) -> str:
    arguments, options = _rq_job(job_name, user_id, user_name, kwargs)
    embedded = current_app.extensions.get("opiekun.embedded_jobs")
    if embedded is not None:
        embedded.start_worker()
    return queue().enqueue(*arguments, **options, job_id=job_id).id


def enqueue_on_commit(
    job_name: str, *, user_id: int | None = None, user_name: str | None = None, once: bool = False, **kwargs: Any
) -> str:
    """Like :func:`enqueue`, but the job is queued when the current database transaction
    commits, and never if it rolls back; returns the id the job will have.

    Use it where the job reads rows written in the same transaction (a request that saves
    an offboarding plan and starts the job that carries it out): a worker picks a job up
    at once, before an uncommitted transaction is visible to it.

    ``once=True``: when the transaction already queues this job with the same arguments,
    nothing is added and that job's id is returned (a hook called at every flush starts
    one job per transaction, not one per flush).
    """
    _definition(job_name)
    pending = db.session().info.setdefault(_ON_COMMIT_KEY, [])
    if once:
        for name, job_id, queued_user_id, _, queued_kwargs in pending:
            if (name, queued_user_id, queued_kwargs) == (job_name, user_id, kwargs):
                return job_id
    job_id = str(uuid.uuid4())
    pending.append((job_name, job_id, user_id, user_name, dict(kwargs)))
    return job_id


def enqueue_in(seconds: float, job_name: str, **kwargs: Any) -> None:
    """Queue a registered job ``seconds`` from now (a retry after a back-off).

    With Redis, rq keeps it in its scheduled-jobs registry until a worker (``opiekun
    worker`` runs rq's scheduler) moves it to the queue; in the embedded mode a timer of
    the app process queues it, so a restart forgets it: keep a periodic
    :class:`Schedule` that finds such work when it must not be lost.
    """
    arguments, options = _rq_job(job_name, None, None, kwargs)
    embedded = current_app.extensions.get("opiekun.embedded_jobs")
    if embedded is not None:
        embedded.enqueue_later(seconds, job_name, kwargs)
        return
    queue().enqueue_in(dt.timedelta(seconds=seconds), *arguments, **options)


_ON_COMMIT_KEY = "opiekun.jobs_on_commit"


def _enqueue_committed(session: Session) -> None:
    pending = session.info.pop(_ON_COMMIT_KEY, None)
    for job_name, job_id, user_id, user_name, kwargs in pending or ():
        _enqueue(job_name, job_id, user_id, user_name, kwargs)


def _forget_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        session.info.pop(_ON_COMMIT_KEY, None)


_listeners_installed = False


def _install_listeners() -> None:
    global _listeners_installed
    if not _listeners_installed:
        event.listen(Session, "after_commit", _enqueue_committed)
        event.listen(Session, "after_transaction_end", _forget_uncommitted)
        _listeners_installed = True


def _initial_meta(job_name: str, user_id: int | None) -> dict[str, Any]:
    return {"name": job_name, "user_id": user_id, "progress_done": 0, "progress_total": None}


_STATUS_NAMES = {
    JobStatus.QUEUED: "queued",
    JobStatus.DEFERRED: "queued",
    JobStatus.SCHEDULED: "queued",
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "done",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "failed",
}


def job_state(job_id: str) -> dict[str, Any] | None:
    """Status (``queued``, ``running``, ``done``, ``failed``), progress and result of a job."""
    try:
        job = Job.fetch(job_id, connection=connection())
    except NoSuchJobError:
        return None
    # One read: the status from the same snapshot as the progress (a second read could see
    # the job finished with the progress of a moment before).
    status = job.get_status(refresh=False)
    result = job.return_value() if status == JobStatus.FINISHED else None
    error = None
    if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        error = job.meta.get("error")
        if not error:
            latest = job.latest_result()
            error = traceback_summary(latest.exc_string if latest else None) or str(status)
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


def waiting_jobs(name_prefix: str) -> list[Job]:
    """The jobs whose name starts with ``name_prefix`` (``"tasks."``: a plugin's) that have
    not started: queued, deferred or scheduled for later."""
    redis = connection()
    waiting_queue = queue()
    ids = [
        *waiting_queue.get_job_ids(),
        *waiting_queue.deferred_job_registry.get_job_ids(),
        *waiting_queue.scheduled_job_registry.get_job_ids(),
    ]
    jobs = [job for job in Job.fetch_many(ids, connection=redis) if job is not None]
    return [job for job in jobs if str(job.meta.get("name", job.description or "")).startswith(name_prefix)]


def remove_waiting_jobs(name_prefix: str) -> int:
    """Remove the jobs :func:`waiting_jobs` finds (a plugin uninstalled: no worker could run
    them); returns how many."""
    jobs = waiting_jobs(name_prefix)
    for job in jobs:
        job.delete()
    return len(jobs)


def cron_scheduler(app: Flask, redis: Redis, logging_level: str | int = logging.INFO) -> CronScheduler:
    """rq's cron scheduler with every enabled plugin's schedules registered.

    The jobs it enqueues look like :func:`enqueue`'s (name, progress, timeouts), without a
    user: their changes are attributed to the job alone.
    """
    scheduler = CronScheduler(
        connection=redis, name=f"opiekun:{socket.gethostname()}:{os.getpid()}", logging_level=logging_level
    )
    definitions: Mapping[str, JobDefinition] = app.extensions["opiekun.jobs"]
    schedules: list[Schedule] = app.extensions["opiekun.schedules"]
    seen: dict[str, int] = {}
    for schedule in schedules:
        seen[schedule.job] = seen.get(schedule.job, 0) + 1
        name = schedule.job if seen[schedule.job] == 1 else f"{schedule.job}#{seen[schedule.job]}"
        scheduler.register(
            run_job,
            QUEUE_NAME,
            args=(schedule.job, dict(schedule.kwargs)),
            cron=schedule.cron,
            interval=schedule.interval,
            name=name,
            job_timeout=definitions[schedule.job].timeout,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            meta=_initial_meta(schedule.job, None),
        )
    return scheduler


# --- the production worker ------------------------------------------------------------------


class ProcessWorker(Worker):
    """rq's worker (``opiekun worker``), stopping within seconds of SIGTERM.

    rq listens for commands on a Redis channel in a thread reading with a 60 s timeout. At
    shutdown, rq 3.0 sends UNSUBSCRIBE and then stops that thread; when the answer reached
    the thread first, it began another 60 s read, and since redis-py 8.2 stopping waits for
    it: a worker took a minute to stop after a job. Here the thread is told to stop first,
    so the UNSUBSCRIBE answer ends its last read."""

    def unsubscribe(self) -> None:
        if self.pubsub_thread:
            self.pubsub_thread.stop(timeout=0)
        super().unsubscribe()


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
        self._stop_scheduling = threading.Event()

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
                self._stop_scheduling.clear()
                self._scheduler = threading.Thread(target=self._schedule, name="opiekun-schedules", daemon=True)
                self._scheduler.start()

    def stop_scheduler(self, timeout: float = 5) -> None:
        """Stop enqueueing periodic jobs (jobs already queued still run)."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            self._stop_scheduling.set()
        if scheduler is not None:
            scheduler.join(timeout)

    def enqueue_later(self, seconds: float, job_name: str, kwargs: Mapping[str, Any]) -> None:
        """Queue ``job_name`` after ``seconds``, from a timer thread of this process."""

        def enqueue_now() -> None:
            with self.app.app_context():
                _enqueue(job_name, None, None, None, kwargs)

        timer = threading.Timer(max(0.0, seconds), enqueue_now)
        timer.daemon = True
        timer.start()

    def _work(self) -> None:
        with self.app.app_context():
            worker = ThreadWorker([Queue(QUEUE_NAME, connection=self.connection())], connection=self.connection())
            worker.work(logging_level="WARNING", with_scheduler=False)

    def _schedule(self) -> None:
        with self.app.app_context():
            scheduler = cron_scheduler(self.app, self.connection(), logging_level=logging.WARNING)
            while not self._stop_scheduling.is_set():
                try:
                    scheduler.enqueue_jobs()
                    pause = scheduler.calculate_sleep_interval()
                except Exception:  # noqa: BLE001 - one bad round must not end the schedules
                    log.exception("embedded scheduler: enqueueing the due jobs failed")
                    pause = 5
                self._stop_scheduling.wait(max(0.2, min(pause, 30)))


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
    _install_listeners()
    if redis_url:
        app.extensions["opiekun.redis"] = Redis.from_url(redis_url)
    else:
        embedded = EmbeddedJobs(app)
        app.extensions["opiekun.embedded_jobs"] = embedded
        app.extensions["opiekun.redis"] = embedded.connection()
