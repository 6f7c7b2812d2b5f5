"""Background work of the audit plugin.

* ``audit.export``: an export of more than a screenful of history, written to the
  instance folder (``audit_exports/<job id>.xlsx``) with progress; downloaded from
  ``GET /api/v1/audit/exports/<job id>.xlsx`` (or the admin's link) once done.
* ``audit.verify``: check the whole hash chain with progress (Administration → History
  integrity, when the history is too long to check while the page loads); the verdict is
  the job's result.
* ``audit.purge``: every night, delete entries older than the retention setting (off
  unless an admin sets it).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from flask import current_app
from rq import get_current_job

from opiekun.jobs import JobDefinition, Schedule, report_progress

EXPORT = "audit.export"
VERIFY = "audit.verify"
PURGE = "audit.purge"
EXPORT_FOLDER = "audit_exports"


def export_folder() -> Path:
    folder = Path(current_app.instance_path) / EXPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_path(job_id: str) -> Path:
    return export_folder() / f"{job_id}.xlsx"


def export_job(filters: dict) -> dict:
    """Job ``audit.export``: write the entries matching ``filters`` (query-string names)."""
    from opiekun.plugins.audit.export import export_history
    from opiekun.plugins.audit.services import HistoryFilter, count_entries

    history_filter = HistoryFilter.from_params(filters)
    job = get_current_job()
    job_id = job.id if job is not None else "direct"
    total = count_entries(history_filter)
    report_progress(0, total)
    target = export_path(job_id)
    partial = target.with_suffix(".part")
    rows = export_history(history_filter, partial, progress=lambda done: report_progress(done, total))
    os.replace(partial, target)
    report_progress(rows, total)
    return {"rows": rows, "download_url": f"/api/v1/audit/exports/{job_id}.xlsx"}


def verify_job() -> dict:
    """Job ``audit.verify``: the verdict on the whole chain (:class:`~opiekun.plugins.audit.chain.Verdict`
    as a dict), reporting how many entries were checked on the way."""
    from opiekun.plugins.audit.services import HistoryFilter, count_entries, verify_history

    total = count_entries(HistoryFilter())
    report_progress(0, total)
    verdict = verify_history(progress=lambda done: report_progress(done, max(done, total)))
    report_progress(verdict.checked, max(verdict.checked, total))
    return dataclasses.asdict(verdict)


def purge_job() -> dict:
    """Job ``audit.purge``: apply the retention setting (does nothing when unset)."""
    from opiekun.plugins.audit.services import purge_old_entries

    return purge_old_entries()


JOBS = (
    JobDefinition(EXPORT, export_job, "Export the change history to Excel", timeout=6 * 3600),
    JobDefinition(VERIFY, verify_job, "Check that the change history was not altered", timeout=6 * 3600),
    JobDefinition(PURGE, purge_job, "Delete history entries older than the retention setting", timeout=3600),
)

#: Half past three every night (UTC).
SCHEDULES = (Schedule(job=PURGE, cron="30 3 * * *"),)
