"""Labels of the task fields and values (translated), and the choices the task forms and
filters offer."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from opiekun.plugin import db
from opiekun.plugins.tasks.models import TaskStatus, TaskType

TASKS_CATEGORY = _l("Tasks")
BUSY_LABEL = _l("Busy")

FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "type": _l("Type"),
    "type_id": _l("Type"),
    "status": _l("Status"),
    "status_id": _l("Status"),
    "owner": _l("Responsible"),
    "responsible_id": _l("Responsible"),
    "participant_ids": _l("Participants"),
    "participants": _l("Participants"),
    "object_type": _l("Record type"),
    "object_id": _l("Record"),
    "due_date": _l("Due date"),
    "start": _l("Start"),
    "end": _l("End"),
    "priority": _l("Priority"),
    "private": _l("Private"),
    "reminders": _l("Reminders (minutes before)"),
    "done": _l("Done"),
    "done_at": _l("Done at"),
    "updated_at": _l("Updated"),
    "created_at": _l("Created"),
    "name": _l("Name"),
    "active": _l("Active"),
    "position": _l("Order"),
    "next_types": _l("Next task types"),
    "next_mode": _l("Next tasks"),
    "next_delay": _l("Delay"),
    "next_delay_unit": _l("Delay unit"),
    "next_delay_from": _l("Delay counted from"),
    "object_types": _l("Record types"),
    "items": _l("Tasks"),
    "delay_days": _l("Delay (days)"),
    "responsible": _l("Responsible"),
    "user": _l("User"),
    "pipeline": _l("Pipeline"),
    "outcome": _l("Outcome"),
    "template": _l("Template"),
    "grantee": _l("Shared with"),
    "task_type": _l("Task type (empty: all types)"),
    "level": _l("Level"),
    # the API's names of the same fields, as refusals name them
    "owner_id": _l("Whose tasks"),
    "grantee_id": _l("Shared with"),
    "task_type_id": _l("Task type (empty: all types)"),
    "pipeline_id": _l("Pipeline"),
    "template_id": _l("Template"),
}

VALUE_LABELS = {
    "low": _l("low"),
    "normal": _l("normal"),
    "high": _l("high"),
    "suggest": _l("propose"),
    "trigger": _l("create at once"),
    "days": _l("days"),
    "weeks": _l("weeks"),
    "months": _l("months"),
    "done": _l("completion"),
    "due": _l("the task's date"),
    "won": _l("won"),
    "lost": _l("lost"),
    "none": _l("none"),
    "free_busy": _l("free/busy"),
    "read": _l("read only"),
    "full": _l("full access"),
    "ask": _l("ask when applying"),
    "record_owner": _l("the record's owner"),
    "user": _l("a user"),
}


def choices_of(values) -> list[tuple[str, Any]]:
    """``(value, label)`` choices of ``values``; each label stays lazy, translated when the
    select is drawn, so choices made when a view is built (``form_choices``) speak the
    language of whoever opens the form."""
    return [(value, VALUE_LABELS.get(value, value)) for value in values]


def type_choices(active_only: bool = False) -> list[tuple[str, str]]:
    """The task types as choices (only the active ones for a new task)."""
    statement = select(TaskType).order_by(TaskType.position, TaskType.id)
    if active_only:
        statement = statement.where(TaskType.active.is_(True))
    return [(str(task_type.id), task_type.name) for task_type in db.session.scalars(statement)]


def status_choices() -> list[tuple[str, str]]:
    """The task statuses as choices, in their order."""
    return [
        (str(status.id), status.name) for status in db.session.scalars(select(TaskStatus).order_by(TaskStatus.position))
    ]


def record_type_choices() -> list[tuple[str, str]]:
    """The record types a task can be on, as choices."""
    registry = current_app.extensions["opiekun.record_types"]
    return [(record_type.name, str(_l(record_type.label))) for record_type in registry if record_type.name != "task"]


def value_name(view, context, model, name):
    """A column formatter: the value's translated label."""
    return str(VALUE_LABELS.get(getattr(model, name), getattr(model, name)))
