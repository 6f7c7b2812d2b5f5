"""Background work of ownership: periods that start or end on a later day take effect
(daily), and owners of records left without activity are released (daily)."""

from __future__ import annotations

import datetime as dt

from opiekun.plugin import JobDefinition, Schedule
from opiekun.plugins.ownership import release, sync

APPLY_PERIODS = "ownership.apply_periods"
RELEASE_INACTIVE = "ownership.release_inactive"


def apply_periods(day: str | None = None) -> dict[str, object]:
    """Job ``ownership.apply_periods``: every record's owner becomes the primary in force on
    ``day`` (``YYYY-MM-DD``; default today, UTC). Safe to run again."""
    changed = sync.apply_periods(dt.date.fromisoformat(day) if day else None)
    return {"changed": changed}


def release_inactive() -> dict[str, object]:
    """Job ``ownership.release_inactive``: remove owners after the type's days without
    activity and notify them. Safe to run again: released records have no owner."""
    return {"released": release.release_inactive()}


JOBS = (
    JobDefinition(APPLY_PERIODS, apply_periods, "Owner periods starting or ending today take effect", timeout=3600),
    JobDefinition(RELEASE_INACTIVE, release_inactive, "Release owners of records without activity", timeout=3600),
)

SCHEDULES = (
    Schedule(job=APPLY_PERIODS, cron="1 0 * * *"),
    Schedule(job=APPLY_PERIODS, interval=3600),  # catches up if the midnight run was missed
    Schedule(job=RELEASE_INACTIVE, cron="30 2 * * *"),
)
