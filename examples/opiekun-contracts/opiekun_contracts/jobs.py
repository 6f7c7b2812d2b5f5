"""Background work: ending contracts whose last day has passed, every night.

A job is a plain function plus a :class:`opiekun.jobs.JobDefinition`; the core runs it in
an app context (on an rq worker in production, in a thread in the embedded mode), with
the enqueuing user (or the job itself) as the acting user of its changes, and commits
when it returns. Keep its arguments JSON-friendly: they travel through Redis.
"""

from __future__ import annotations

import datetime as dt

from opiekun.plugin import JobDefinition, Schedule, company_today
from opiekun_contracts.services import end_expired_contracts

END_EXPIRED = "contracts.end_expired"


def end_expired(today: str | None = None) -> dict[str, object]:
    """Job ``contracts.end_expired``: end active contracts whose end date is before
    ``today`` (``YYYY-MM-DD``; default: the company's today, on the deployment's clock). Safe to run again: contracts
    already ended are not touched twice."""
    day = dt.date.fromisoformat(today) if today else company_today()
    return {"ended": end_expired_contracts(day), "today": day.isoformat()}


JOBS = (JobDefinition(END_EXPIRED, end_expired, "End active contracts whose end date has passed", timeout=600),)

#: Five past midnight (UTC) every day.
SCHEDULES = (Schedule(job=END_EXPIRED, cron="5 0 * * *"),)
