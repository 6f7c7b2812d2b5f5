"""What admins configure: the plugin's settings (statuses on or off), the task types
(with what follows each) and the statuses; the defaults exist from the start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select

from opiekun.plugin import Conflict, Invalid, Message, SettingsStore, User, db, utcnow
from opiekun.plugins.tasks.models import DEFAULT_STATUSES, DEFAULT_TYPES, TaskStatus, TaskType
from opiekun.plugins.tasks.permissions import CONFIGURE, require_permission

DEFAULT_SETTINGS = {"statuses_enabled": False}
#: The plugin's settings, kept together as one JSON object (key ``tasks.settings``).
STORED_SETTINGS = SettingsStore("tasks").setting("settings", default=DEFAULT_SETTINGS)


def ensure_defaults() -> bool:
    """The default task types and statuses exist (created once, when none exist at all;
    admins rename and deactivate them afterwards, never delete them). Whether any were
    created now (the caller commits)."""
    created = False
    if db.session.scalar(select(TaskType.id).limit(1)) is None:
        created = True
        db.session.execute(
            insert(TaskType),
            [
                {
                    "name": name,
                    "active": True,
                    "position": position,
                    "next_mode": "suggest",
                    "next_delay": 1,
                    "next_delay_unit": "days",
                    "next_delay_from": "done",
                    "created_at": utcnow(),
                }
                for position, name in enumerate(DEFAULT_TYPES, start=1)
            ],
        )
    if db.session.scalar(select(TaskStatus.id).limit(1)) is None:
        created = True
        db.session.execute(
            insert(TaskStatus),
            [
                {"name": name, "active": True, "position": position}
                for position, name in enumerate(DEFAULT_STATUSES, start=1)
            ],
        )
    return created


def settings() -> dict[str, Any]:
    """The plugin's settings: the stored values over :data:`DEFAULT_SETTINGS` (stored keys
    it does not know are left out)."""
    stored = STORED_SETTINGS.read()
    stored = stored if isinstance(stored, dict) else {}
    return {**DEFAULT_SETTINGS, **{key: stored[key] for key in DEFAULT_SETTINGS if key in stored}}


def change_settings(actor: User, values: Mapping[str, Any]) -> dict[str, Any]:
    """Change the settings (unknown keys are ignored); needs ``tasks.configure``."""
    require_permission(actor, CONFIGURE)
    merged = {**settings(), **{key: value for key, value in values.items() if key in DEFAULT_SETTINGS}}
    STORED_SETTINGS.write(merged)
    db.session.flush()
    return merged


def unique_name(model: type, name: str, own_id: int | None = None) -> None:
    """409 when another row of ``model`` has ``name`` (case-insensitive)."""
    other = db.session.scalar(select(model.id).where(func.lower(model.name) == name.lower()))
    if other is not None and other != own_id:
        raise Conflict(Message("the name %(name)r is already used", name=name), {"name": Message("already used")})


def save_task_type(actor: User, task_type: TaskType | None, values: Mapping[str, Any]) -> TaskType:
    """Create (``task_type`` None) or change a task type, with the types that follow it."""
    require_permission(actor, CONFIGURE)
    creating = task_type is None
    task_type = task_type or TaskType(
        active=True, next_mode="suggest", next_delay=1, next_delay_unit="days", next_delay_from="done"
    )
    values = dict(values)
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if "name" in values:
        unique_name(TaskType, values["name"], task_type.id)
    next_ids = values.pop("next_type_ids", None)
    if next_ids is not None:
        found = db.session.scalars(select(TaskType).where(TaskType.id.in_(next_ids))).all() if next_ids else []
        unknown = sorted(set(next_ids) - {found_type.id for found_type in found})
        if unknown:
            raise Invalid(
                Message("some values are not valid"),
                {"next_type_ids": Message("no task types with ids %(ids)s", ids=unknown)},
            )
    if creating and "position" not in values:
        values["position"] = (db.session.scalar(select(func.max(TaskType.position))) or 0) + 1
    for name, value in values.items():
        setattr(task_type, name, value)
    if creating:
        db.session.add(task_type)
    if next_ids is not None:
        by_id = {found_type.id: found_type for found_type in found}
        if creating and any(next_id not in by_id for next_id in next_ids):
            db.session.flush()
        task_type.next_types = [by_id[next_id] for next_id in dict.fromkeys(next_ids)]
    db.session.flush()
    return task_type


def save_task_status(actor: User, status: TaskStatus | None, values: Mapping[str, Any]) -> TaskStatus:
    """Create (``status`` None) or change a task status."""
    require_permission(actor, CONFIGURE)
    creating = status is None
    status = status or TaskStatus(active=True)
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if "name" in values:
        unique_name(TaskStatus, values["name"], status.id)
    values = dict(values)
    if creating and "position" not in values:
        values["position"] = (db.session.scalar(select(func.max(TaskStatus.position))) or 0) + 1
    for name, value in values.items():
        setattr(status, name, value)
    if creating:
        db.session.add(status)
    db.session.flush()
    return status
