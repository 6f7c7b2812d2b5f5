"""Creating, changing, completing and deleting tasks, with the same rules for the API,
the admin, templates and jobs: values are validated first, giving a task to someone else
needs the right to, and completing one proposes (or creates) the next ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, select, update

from opiekun.plugin import (
    FieldChange,
    Invalid,
    Message,
    RecordChange,
    Refused,
    User,
    as_local,
    company_today,
    db,
    deployment_time_zone,
    has_permission,
    record_event,
    utcnow,
)
from opiekun.plugins.tasks.models import Task, TaskReminder
from opiekun.plugins.tasks.permissions import ASSIGN, SEE_ALL
from opiekun.plugins.tasks.services.next_tasks import ProposedTask, next_tasks
from opiekun.plugins.tasks.services.reminders import sync_reminders
from opiekun.plugins.tasks.services.validation import validate_values
from opiekun.plugins.tasks.services.visibility import Visibility, visible_task


def apply_values(task: Task, values: Mapping[str, Any]) -> None:
    """Set validated values (participants and reminders have their own bookkeeping)."""
    for name, value in values.items():
        if name == "participant_ids":
            continue
        if name == "responsible_id":
            task.owner_id = value
        elif name == "reminders":
            task.reminders = sorted(value)
        else:
            setattr(task, name, value)
    if "start" in values and values["start"] is not None and "due_date" not in values:
        task.due_date = as_local(values["start"], deployment_time_zone()).date()  # the company's day
    if "done" in values:
        task.done_at = utcnow() if values["done"] else None


def set_participants(task: Task, user_ids: Sequence[int]) -> None:
    """Replace the participants; each one added or removed is a change event."""
    before = set(task.participant_ids)
    after = set(user_ids)
    if before == after:
        return
    users = db.session.scalars(select(User).where(User.id.in_(after))).all() if after else []
    task.participants = sorted(users, key=lambda user: user.id)
    db.session.flush()
    for user_id in sorted(after - before):
        record_event(
            db.session,
            RecordChange(
                "task",
                task.id,
                task.display_name,
                "participant_added",
                (FieldChange("participant_ids", None, user_id),),
            ),
        )
    for user_id in sorted(before - after):
        record_event(
            db.session,
            RecordChange(
                "task",
                task.id,
                task.display_name,
                "participant_removed",
                (FieldChange("participant_ids", user_id, None),),
            ),
        )


def save_task(task: Task, values: Mapping[str, Any], creating: bool) -> Task:
    """Apply validated ``values`` and keep participants and reminders in line (no checks here)."""
    apply_values(task, values)
    if creating:
        db.session.add(task)
    db.session.flush()
    if "participant_ids" in values:
        set_participants(task, values["participant_ids"])
    if creating or {"reminders", "start", "due_date", "done"} & set(values):
        sync_reminders(task)
    return task


def may_assign_to(actor: User, responsible_id: int | None, type_id: int) -> bool:
    """Whether ``actor`` may make ``responsible_id`` responsible for a task of type ``type_id``."""
    return assignment_rule(actor)(responsible_id, type_id)


def assignment_rule(actor: User):
    """``may_assign_to`` for one actor, as a function of (responsible, type): the actor's
    permissions and shares are read once."""
    if has_permission(actor, ASSIGN.name) or has_permission(actor, SEE_ALL.name):
        return lambda responsible_id, type_id: True
    visibility = Visibility.of(actor)

    def may_assign(responsible_id: int | None, type_id: int) -> bool:
        return responsible_id == actor.id or visibility.scope_level(responsible_id, type_id) == "full"

    return may_assign


def assignable_users(actor: User, type_ids: Iterable[int]) -> list[User]:
    """The active users ``actor`` may make responsible for tasks of every type in
    ``type_ids`` (whom the panel offers where a user is chosen for new tasks), by name."""
    may_assign = assignment_rule(actor)
    type_ids = set(type_ids)
    active = db.session.scalars(select(User).where(User.status == "active").order_by(User.name, User.id))
    return [user for user in active if all(may_assign(user.id, type_id) for type_id in type_ids)]


def refuse_assignment() -> Refused:
    """The refusal for a task given to someone the actor may not give tasks to."""
    return Refused(
        Message(
            "you may create tasks for another user only with full access to their tasks "
            "or the permission %(permission)r",
            permission=ASSIGN.name,
        ),
        {"responsible_id": Message("not allowed")},
    )


def create_task(actor: User | None, values: Mapping[str, Any]) -> Task:
    """Create a task from API-shaped ``values``; the responsible defaults to ``actor``.

    Giving the task to someone else needs ``tasks.assign`` or full access to their tasks.
    """
    values = dict(values)
    values.setdefault("responsible_id", actor.id if actor else None)
    values.setdefault("participant_ids", [])
    values.setdefault("reminders", [])
    task = Task(created_by_id=actor.id if actor else None, priority="normal", private=False, done=False, reminders=[])
    problems = validate_values(task, values)
    if "title" not in values or "type_id" not in values:
        problems.update({name: Message("required") for name in ("title", "type_id") if name not in values})
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if actor is not None and not may_assign_to(actor, values["responsible_id"], values["type_id"]):
        raise refuse_assignment()
    return save_task(task, values, creating=True)


@dataclass
class TaskChange:
    """A changed task, the actor's level on it, and the next tasks its completion proposed or created."""

    task: Task
    level: str
    proposed_next: list[ProposedTask] = field(default_factory=list)
    created_next: list[Task] = field(default_factory=list)


def update_task(actor: User, task_id: int, values: Mapping[str, Any]) -> TaskChange:
    """Change a task the actor has full access to; completing it proposes (or, for types
    in ``trigger`` mode, creates) the next tasks."""
    task, _ = visible_task(actor, task_id, "full")
    values = dict(values)
    problems = validate_values(task, values)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    completing = values.get("done") is True and not task.done
    save_task(task, values, creating=False)
    level = Visibility.of(actor).level_of(task)
    change = TaskChange(task, level)
    if completing:
        proposals = next_tasks(task, company_today())
        if task.type.next_mode == "trigger":
            change.created_next = [
                save_task(
                    Task(created_by_id=actor.id, priority="normal", private=False, done=False, reminders=[]),
                    {**proposal.as_values(), "participant_ids": [], "reminders": []},
                    creating=True,
                )
                for proposal in proposals
            ]
        else:
            change.proposed_next = proposals
    return change


def delete_task(actor: User, task_id: int) -> None:
    """Delete a task the actor has full access to, with its reminders."""
    task, _ = visible_task(actor, task_id, "full")
    db.session.execute(delete(TaskReminder).where(TaskReminder.task_id == task.id))
    db.session.delete(task)
    db.session.flush()


def detach_from_missing_records(session) -> int:
    """Tasks whose record no longer exists (deleted while the plugin was off) stay, on no
    record, as :func:`detach_from_deleted_records` leaves them; returns how many."""
    from opiekun.plugin import record_types

    table = Task.__table__
    detached = 0
    for record_type in record_types():
        if record_type.model is Task:
            continue
        missing = ~exists().where(record_type.model.id == table.c.object_id)
        detached += session.execute(
            update(table)
            .where(table.c.object_type == record_type.name, missing)
            .values(object_type=None, object_id=None)
        ).rowcount
    return detached


def detach_from_deleted_records(session, deleted: Mapping[str, list[int]]) -> None:
    """Tasks on records that were deleted stay, on no record (one UPDATE per type)."""
    table = Task.__table__
    for object_type, ids in deleted.items():
        session.execute(
            update(table)
            .where(table.c.object_type == object_type, table.c.object_id.in_(ids))
            .values(object_type=None, object_id=None)
        )
