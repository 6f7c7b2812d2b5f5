"""Reminders: one ``task_reminders`` row per entry of a task's ``reminders``, kept in
line with the task, so the job finds what is due with one indexed query and notifies the
responsible user once, in their language ("Przypomnienie: …", "Reminder: …")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, delete, insert, literal, select, update

from opiekun.plugin import User, db, utcnow
from opiekun.plugins.tasks.models import Task, TaskReminder

#: A reminder of a task without a time counts from 9:00 UTC of its day.
DAY_REMINDER_TIME = dt.time(9, 0)


def reminder_time(task: Task) -> dt.datetime | None:
    """The moment reminders count back from: the start, else 9:00 UTC of the due day."""
    if task.start is not None:
        return task.start
    if task.due_date is not None:
        return dt.datetime.combine(task.due_date, DAY_REMINDER_TIME, tzinfo=dt.UTC)
    return None


def sync_reminders(task: Task) -> None:
    """Keep ``task_reminders`` in line with the task's reminders and time (set-based)."""
    db.session.execute(delete(TaskReminder).where(TaskReminder.task_id == task.id))
    at = reminder_time(task)
    if at is None or task.done or not task.reminders:
        return
    db.session.execute(
        insert(TaskReminder),
        [
            {
                "task_id": task.id,
                "minutes_before": minutes,
                "remind_at": at - dt.timedelta(minutes=minutes),
                "sent_at": None,
            }
            for minutes in task.reminders
        ],
    )


def reminder_prefix():
    """The SQL text a reminder's notification starts with, in its user's language
    ("Przypomnienie: " by default)."""
    from flask import current_app
    from flask_babel import force_locale, gettext

    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "pl")
    prefixes = {}
    for language in dict.fromkeys((default, *(current_app.config.get("LANGUAGES") or ()))):
        with force_locale(language):
            prefixes[language] = gettext("Reminder") + ": "
    others = [(User.locale == language, literal(text)) for language, text in prefixes.items() if language != default]
    return case(*others, else_=literal(prefixes[default])) if others else literal(prefixes[default])


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Notify the responsible users of reminders that are due, once each (set-based), each
    in their language."""
    from opiekun.plugin import Notification

    now = now or utcnow()
    due = and_(TaskReminder.sent_at.is_(None), TaskReminder.remind_at <= now)
    source = (
        select(
            Task.owner_id,
            literal("task_reminder"),
            reminder_prefix() + Task.title,
            literal("task"),
            Task.id,
            literal(now, type_=TaskReminder.remind_at.type),
        )
        .join(TaskReminder, TaskReminder.task_id == Task.id)
        .join(User, User.id == Task.owner_id)
        .where(due, Task.done.is_(False))
    )
    db.session.execute(
        insert(Notification).from_select(
            ["user_id", "kind", "message", "object_type", "object_id", "created_at"], source
        )
    )
    result = db.session.execute(
        update(TaskReminder).where(due).values(sent_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
