"""Checking a task's values before anything is saved: ``{field: problem}`` for every
value that cannot be taken (users, record links, types, statuses, times, participants)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from opiekun.plugin import (
    Message,
    User,
    db,
    find_by_id,
    moment_text,
    record_type_label,
    record_types,
    record_types_label,
)
from opiekun.plugins.tasks.models import Task, TaskStatus, TaskType
from opiekun.plugins.tasks.services.configuration import settings

MAX_PARTICIPANTS = 50


def check_user(user_id: int | None, field_name: str, problems: dict[str, str]) -> None:
    """Note in ``problems`` when ``user_id`` names no user or a departed one."""
    if user_id is None:
        return
    status = db.session.scalar(select(User.status).where(User.id == user_id))
    if status is None:
        problems[field_name] = Message("no user with id %(id)s", id=user_id)
    elif status != "active":
        problems[field_name] = Message("user %(id)s has departed", id=user_id)


def check_object(object_type: str | None, object_id: int | None, field_prefix: str = "") -> dict[str, str]:
    """Problems with a link to a record: both or neither, a registered type, an existing row."""
    if object_type is None and object_id is None:
        return {}
    if object_type is None or object_id is None:
        missing = "object_type" if object_type is None else "object_id"
        return {field_prefix + missing: Message("give object_type and object_id together (or neither)")}
    record_type = record_types().get(object_type)
    if record_type is None or object_type == "task":
        known = record_types_label(name for name in record_types().names() if name != "task")
        return {
            field_prefix + "object_type": Message(
                "unknown record type %(type)r; one of: %(known)s", type=object_type, known=known
            )
        }
    if find_by_id(record_type.model, object_id) is None:
        return {
            field_prefix + "object_id": Message(
                "no %(type)s with id %(id)s", type=record_type_label(object_type), id=object_id
            )
        }
    return {}


NOT_NULL = ("title", "type_id", "responsible_id", "priority", "private", "done", "reminders", "participant_ids")


def validate_values(task: Task, values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: problem}`` for ``values`` applied to ``task`` (nothing is applied)."""
    problems: dict[str, str] = {
        field: Message("must not be null") for field in NOT_NULL if field in values and values[field] is None
    }
    if values.get("type_id") is not None:
        task_type = find_by_id(TaskType, values["type_id"])
        if task_type is None:
            problems["type_id"] = Message("no task type with id %(id)s", id=values["type_id"])
        elif not task_type.active and values["type_id"] != task.type_id:
            problems["type_id"] = Message("the task type %(name)r is switched off", name=task_type.name)
    if values.get("status_id") is not None:
        if not settings()["statuses_enabled"]:
            problems["status_id"] = Message("task statuses are switched off (see /tasks/settings)")
        elif find_by_id(TaskStatus, values["status_id"]) is None:
            problems["status_id"] = Message("no task status with id %(id)s", id=values["status_id"])
    if "responsible_id" in values:
        check_user(values["responsible_id"], "responsible_id", problems)
    participants = values.get("participant_ids") or []
    if len(set(participants)) != len(participants):
        problems["participant_ids"] = Message("a user is named twice")
    elif len(participants) > MAX_PARTICIPANTS:
        problems["participant_ids"] = Message("at most %(count)s participants", count=MAX_PARTICIPANTS)
    elif participants:
        known = dict(db.session.execute(select(User.id, User.status).where(User.id.in_(participants))).all())
        unknown = [user_id for user_id in participants if user_id not in known]
        departed = [user_id for user_id in participants if known.get(user_id) == "departed"]
        if unknown:
            problems["participant_ids"] = Message("no users with ids %(ids)s", ids=unknown)
        elif departed:
            problems["participant_ids"] = Message("users %(ids)s have departed", ids=departed)
    if "object_type" in values or "object_id" in values:
        problems.update(
            check_object(values.get("object_type", task.object_type), values.get("object_id", task.object_id))
        )
    start = values.get("start", task.start)
    end = values.get("end", task.end)
    if end is not None and start is None:
        problems["end"] = Message("an end needs a start")
    elif start is not None and end is not None and end < start:
        problems["end"] = Message("must not be before start (%(start)s)", start=moment_text(start))
    reminders = values.get("reminders") or []
    if len(set(reminders)) != len(reminders):
        problems["reminders"] = Message("a reminder is given twice")
    return problems
