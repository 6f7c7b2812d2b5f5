"""A small plugin with background jobs, for tests/core/test_jobs.py.

It lives in an importable module (``tests.core.job_fixture_plugin``) rather than inside the
test file so that a real ``opiekun worker`` / ``opiekun scheduler`` subprocess can load it
too (``OPIEKUN_PLUGIN_MODULES=tests.core.job_fixture_plugin``).

Its jobs only use the core's public API: records are created through
``opiekun.record_rules.save_record`` (so they are validated, owned and attributed like any
other change) and the gates and counters live in the app's own Redis
(``opiekun.jobs.connection()``: fakeredis in the embedded mode, the real server in
production), so a test can steer a job running in another thread or process.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from opiekun import PluginManifest, hookimpl

NAME = "jobfixture"
MANIFEST = PluginManifest(name=NAME, version="1.0.0", summary="background jobs for the job tests")

CREATE_COMPANIES = f"{NAME}.create_companies"
TICK = f"{NAME}.tick"
NAP = f"{NAME}.nap"
NAP_TIMEOUT = 1
TICKS_KEY = f"{NAME}:ticks"
GATE_TIMEOUT = 60

#: Change sets seen by this plugin in this process (the embedded tests read them).
seen_change_sets: list = []


def gate_key(gate: str) -> str:
    return f"{NAME}:gate:{gate}"


def open_gate(redis, gate: str) -> None:
    redis.set(gate_key(gate), 1, ex=600)


def create_companies(names: list[str], gate: str | None = None, fail_at: int | None = None) -> dict:
    """Create one company per name as the acting user, reporting progress after each.

    ``gate``: after the first company, wait until the test opens the gate (so the test can
    see the job running, part done). ``fail_at``: raise after creating that many (nothing
    may stay in the database).
    """
    from flask import current_app

    from opiekun.changes import current_actor
    from opiekun.extensions import db
    from opiekun.jobs import connection, report_progress
    from opiekun.models import Company, User
    from opiekun.record_rules import save_record

    actor = current_actor()
    user = db.session.get(User, actor.user_id) if actor.user_id else None
    record_type = current_app.extensions["opiekun.record_types"].for_model(Company)
    total = len(names)
    report_progress(0, total)
    created = []
    for number, name in enumerate(names, start=1):
        company = save_record(record_type, Company(), {"name": name}, "create", user)
        created.append(company.id)
        report_progress(number, total)
        if fail_at == number:
            raise ValueError(f"company {number} of {total} refused on purpose")
        if gate and number == 1:
            deadline = time.monotonic() + GATE_TIMEOUT
            while not connection().exists(gate_key(gate)):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"gate {gate!r} was never opened")
                time.sleep(0.02)
    return {"created": len(created), "ids": created, "actor": actor.label}


def nap(seconds: float) -> dict:
    """Sleep longer than the job's timeout allows (the worker must give up on it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return {"slept": seconds}


def tick() -> dict:
    """The periodic job: counts its runs in Redis."""
    from opiekun.jobs import connection

    return {"ticks": int(connection().incr(TICKS_KEY))}


@hookimpl
def opiekun_jobs() -> Iterable:
    from opiekun.jobs import JobDefinition

    return [
        JobDefinition(CREATE_COMPANIES, create_companies, "create companies (job tests)", timeout=120),
        JobDefinition(TICK, tick, "count runs (job tests)", timeout=30),
        JobDefinition(NAP, nap, "sleep too long (job tests)", timeout=NAP_TIMEOUT),
    ]


@hookimpl
def opiekun_schedules() -> Iterable:
    from opiekun.jobs import Schedule

    return [Schedule(TICK, interval=1)]


@hookimpl
def opiekun_records_changed(session, change_set) -> None:
    """Keep the change sets made by jobs, and leave a trace of each in the database (a
    notification to the acting user, in the job's transaction) so that a test can see,
    across processes, that the worker's changes reached the hook with the right actor."""
    if not change_set.actor.job:
        return
    seen_change_sets.append(change_set)
    from opiekun.models import Notification

    for change in change_set.records:
        if change.object_type == "company" and change.operation == "create" and change_set.actor.user_id:
            session.add(
                Notification(
                    user_id=change_set.actor.user_id,
                    kind=f"{NAME}.changed",
                    message=change_set.actor.label,
                    object_type=change.object_type,
                    object_id=change.object_id,
                    data={"job": change_set.actor.job, "user_id": change_set.actor.user_id},
                )
            )
