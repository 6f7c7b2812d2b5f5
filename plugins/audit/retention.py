"""How long the history is kept: a number of months (the setting ``audit.retention_months``;
unset: for ever), applied every night by the job ``audit.purge``.

A purge deletes the old entries and appends one chained ``purge`` entry naming the hash of
the last entry removed, so verification continues the remaining chain from it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from sqlalchemy import select

from opiekun.plugin import SettingsStore, StoredSetting, db, utcnow
from opiekun.plugins.audit import chain
from opiekun.plugins.audit.entries import ENTRIES, PURGE, append_entry, lock_head

#: ``audit.retention_months``: the months the history is kept; unset (``None``): for ever.
RETENTION_MONTHS: StoredSetting[int | None] = SettingsStore("audit").setting("retention_months", None)


def retention_months() -> int | None:
    """The months the history is kept (``None``: for ever)."""
    return RETENTION_MONTHS.read()


def set_retention_months(months: int | None) -> None:
    """Keep the history ``months`` months, or for ever (``None``); the caller commits."""
    RETENTION_MONTHS.write(months)
    db.session.flush()


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time ``months`` earlier (the month's last day when it is shorter)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def purge_old_entries(now: dt.datetime | None = None) -> dict[str, Any]:
    """Delete entries older than the retention setting (nothing when it is unset); one
    chained ``purge`` entry says what went, so verification continues from it."""
    months = retention_months()
    if not months:
        return {"purged": 0, "retention_months": None}
    cutoff = months_before(now or utcnow(), months)
    connection = db.session.connection()
    lock_head(connection)
    last = connection.execute(
        select(ENTRIES.c.id, ENTRIES.c.hash).where(ENTRIES.c.at < cutoff).order_by(ENTRIES.c.id.desc()).limit(1)
    ).first()
    if last is None:
        return {"purged": 0, "retention_months": months}
    purged = connection.execute(ENTRIES.delete().where(ENTRIES.c.id <= last.id)).rowcount
    append_entry(
        connection,
        {
            "at": utcnow(),
            "object_type": "audit",
            "operation": PURGE,
            "job": "audit.purge",
            "context": {
                "before": chain.timestamp_text(cutoff),
                "purged": purged,
                "last_purged_id": last.id,
                "last_purged_hash": last.hash,
            },
        },
    )
    return {"purged": purged, "retention_months": months}
