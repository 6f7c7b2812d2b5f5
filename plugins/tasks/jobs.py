"""Background work of the tasks plugin: reminders.

``tasks.send_reminders`` runs every minute: each reminder that has come due becomes a
notification to the task's responsible user, once (set-based ``INSERT … SELECT``).
"""

from __future__ import annotations

import datetime as dt

from opiekun.plugin import JobDefinition, Schedule

SEND_REMINDERS = "tasks.send_reminders"


def send_reminders(now: str | None = None) -> dict[str, object]:
    """Job ``tasks.send_reminders``; ``now`` (ISO timestamp) for tests, default: now."""
    from opiekun.plugins.tasks.services.reminders import send_due_reminders

    moment = dt.datetime.fromisoformat(now) if now else None
    return {"sent": send_due_reminders(moment)}


JOBS = (JobDefinition(SEND_REMINDERS, send_reminders, "Notify users of task reminders that are due", timeout=600),)
SCHEDULES = (Schedule(job=SEND_REMINDERS, interval=60),)
