"""Background work of the audit plugin.

* ``audit.export``: an export of more than a screenful of history, written to the
  instance folder (``audit_exports/<job id>.xlsx``) with progress; downloaded from
  ``GET /api/v1/audit/exports/<job id>.xlsx`` (or the admin's link) once done.
* ``audit.verify``: check the whole hash chain with progress (Administration → History
  integrity, when the history is too long to check while the page loads); the verdict is
  the job's result.
* ``audit.purge``: every night, delete entries older than the retention setting (off
  unless an admin sets it).
* ``audit.expire_exports``: every hour, delete export files older than
  ``OPIEKUN_EXPORT_RETENTION_HOURS`` (24 by default; also done when an export starts).
* ``audit.forget_exports``: after a person is anonymized, delete every export file (any
  may hold their data); an export running meanwhile discards its file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import time
from pathlib import Path

from flask import current_app
from rq import get_current_job

from opiekun.plugin import (
    ConfigurationError,
    Gone,
    JobDefinition,
    Message,
    NotFound,
    Refused,
    Schedule,
    job_state,
    report_progress,
)
from opiekun.plugin import job_connection as connection
from opiekun.plugins.audit.history import HistoryFilter, count_entries
from opiekun.plugins.audit.retention import purge_old_entries
from opiekun.plugins.audit.verification import verify_history

EXPORT = "audit.export"
VERIFY = "audit.verify"
PURGE = "audit.purge"
EXPIRE_EXPORTS = "audit.expire_exports"
FORGET_EXPORTS = "audit.forget_exports"
EXPORT_FOLDER = "audit_exports"
#: How long an export file is kept unless ``OPIEKUN_EXPORT_RETENTION_HOURS`` says otherwise.
DEFAULT_EXPORT_RETENTION_HOURS = 24
#: The suffixes of export files: finished, and being written.
EXPORT_SUFFIXES = (".xlsx", ".part")
#: A counter (in the job queue's Redis) raised after every anonymization: an export that
#: sees it change while it runs may have read data that is gone now.
ANONYMIZATIONS_KEY = "opiekun:audit:anonymizations"


class ExportOutdated(RuntimeError):
    """A person was anonymized while the export ran: its file is discarded."""


def export_folder() -> Path:
    """The instance folder's ``audit_exports`` (made, private, on first use)."""
    folder = Path(current_app.instance_path) / EXPORT_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def export_path(job_id: str) -> Path:
    """Where the export job ``job_id`` writes its finished file."""
    return export_folder() / f"{job_id}.xlsx"


def export_retention() -> dt.timedelta:
    """How long export files are kept: the app's ``AUDIT_EXPORT_RETENTION_HOURS``, else
    ``OPIEKUN_EXPORT_RETENTION_HOURS``, else 24 hours."""
    configured = current_app.config.get(
        "AUDIT_EXPORT_RETENTION_HOURS",
        os.environ.get("OPIEKUN_EXPORT_RETENTION_HOURS") or DEFAULT_EXPORT_RETENTION_HOURS,
    )
    try:
        hours = float(configured)
    except (TypeError, ValueError):
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        raise ConfigurationError(
            f"OPIEKUN_EXPORT_RETENTION_HOURS must be a positive number of hours, not {configured!r}"
        )
    return dt.timedelta(hours=hours)


def export_files() -> list[Path]:
    """Every export file in the instance folder (finished or being written)."""
    return [path for path in export_folder().iterdir() if path.suffix in EXPORT_SUFFIXES]


def expire_exports() -> dict:
    """Job ``audit.expire_exports`` (hourly, and when an export starts): delete export
    files older than :func:`export_retention` (abandoned partial files too)."""
    oldest_kept = time.time() - export_retention().total_seconds()
    expired = 0
    for path in export_files():
        try:
            if path.stat().st_mtime < oldest_kept:
                path.unlink()
                expired += 1
        except FileNotFoundError:
            pass
    return {"expired": expired}


def forget_exports() -> dict:
    """Job ``audit.forget_exports`` (also called as a person is anonymized): delete every
    export file, since any may hold the person's data, and raise the anonymization
    counter so that an export running meanwhile discards what it wrote."""
    connection().incr(ANONYMIZATIONS_KEY)
    deleted = 0
    for path in export_files():
        path.unlink(missing_ok=True)
        deleted += 1
    return {"deleted": deleted}


def _anonymizations() -> int:
    return int(connection().get(ANONYMIZATIONS_KEY) or 0)


def own_job(job_id: str, name: str, user) -> dict:
    """The state of the job ``name`` with this id, for ``user`` when they started it or are
    an admin: ``NotFound`` for another kind of job or none (an export's id never tells
    about a verification), ``Refused`` for someone else's. The API and the panel ask this."""
    state = job_state(job_id)
    if state is None or state["name"] != name:
        raise NotFound(
            Message("no such job %(id)s", id=job_id) if name != EXPORT else Message("no export %(id)s", id=job_id)
        )
    if state["user_id"] != user.id and user.role != "admin":
        raise Refused(
            Message("this export was started by another user")
            if name == EXPORT
            else Message("this check was started by another user")
        )
    return state


def finished_export(job_id: str, state: dict) -> Path:
    """The file of the finished export ``job_id`` (its job's ``state``), for the API's
    and the admin's download: 404 while the export is not done, 410 once its file is gone
    (expired, or deleted after an anonymization)."""
    if state["status"] != "done":
        raise NotFound(Message("export %(id)s is not ready (%(status)s)", id=job_id, status=state["status"]))
    path = export_path(job_id)
    if not path.exists():
        hours = export_retention().total_seconds() / 3600
        raise Gone(
            Message(
                "export %(id)s is no longer available: exports are kept %(hours)s hours and deleted "
                "when a person is anonymized; start a new export",
                id=job_id,
                hours=f"{hours:g}",
            )
        )
    return path


def export_job(
    filters: dict, language: str | None = None, site_url: str | None = None, time_zone: str | None = None
) -> dict:
    """Job ``audit.export``: write the entries matching ``filters`` (query-string names),
    in ``language`` on the clock of ``time_zone`` when the admin started it (the user's),
    else the API's English in UTC; links to records are absolute under ``site_url``, the
    address the export was asked on.

    Expired exports are deleted first. When a person is anonymized while it runs (the
    counter of :func:`forget_exports` changed), the file is discarded and the job fails
    saying so: what it read may hold data that is gone now."""
    from opiekun.plugins.audit.export import export_history  # openpyxl: loaded when an export runs

    expire_exports()
    anonymizations = _anonymizations()
    history_filter = HistoryFilter.from_params(filters)
    job = get_current_job()
    job_id = job.id if job is not None else "direct"
    total = count_entries(history_filter)
    report_progress(0, total)
    target = export_path(job_id)
    partial = target.with_suffix(".part")
    rows = export_history(
        history_filter, partial, language, site_url, time_zone, progress=lambda done: report_progress(done, total)
    )
    with contextlib.suppress(FileNotFoundError):  # deleted by forget_exports while it was written
        os.replace(partial, target)
    if _anonymizations() != anonymizations or not target.exists():
        target.unlink(missing_ok=True)
        raise ExportOutdated("a person was anonymized while the export ran; start the export again")
    report_progress(rows, total)
    return {"rows": rows, "download_url": f"/api/v1/audit/exports/{job_id}.xlsx"}


def verify_job() -> dict:
    """Job ``audit.verify``: the verdict on the whole chain (:class:`~opiekun.plugins.audit.chain.Verdict`
    as a dict), reporting how many entries were checked on the way."""
    total = count_entries(HistoryFilter())
    report_progress(0, total)
    verdict = verify_history(progress=lambda done: report_progress(done, max(done, total)))
    report_progress(verdict.checked, max(verdict.checked, total))
    return dataclasses.asdict(verdict)


def purge_job() -> dict:
    """Job ``audit.purge``: apply the retention setting (does nothing when unset)."""
    return purge_old_entries()


JOBS = (
    JobDefinition(EXPORT, export_job, "Export the change history to Excel", timeout=6 * 3600),
    JobDefinition(VERIFY, verify_job, "Check that the change history was not altered", timeout=6 * 3600),
    JobDefinition(PURGE, purge_job, "Delete history entries older than the retention setting", timeout=3600),
    JobDefinition(EXPIRE_EXPORTS, expire_exports, "Delete history exports older than their retention", timeout=600),
    JobDefinition(FORGET_EXPORTS, forget_exports, "Delete every history export after an anonymization", timeout=600),
)

#: Purge at half past three every night, expire exports every hour (UTC).
SCHEDULES = (Schedule(job=PURGE, cron="30 3 * * *"), Schedule(job=EXPIRE_EXPORTS, cron="45 * * * *"))
