"""A user's tasks for offboarding (the core's "items of a user" hooks): how many they are
responsible for, and giving them to someone else."""

from __future__ import annotations

from sqlalchemy import and_, func, select

from opiekun.plugin import db, in_share, update_records
from opiekun.plugins.tasks.models import Task


def count_user_tasks(user_id: int) -> tuple[int, int]:
    """How many tasks the user is responsible for: open, done."""
    open_count, done_count = db.session.execute(
        select(func.count().filter(Task.done.is_(False)), func.count().filter(Task.done.is_(True)))
        .select_from(Task)
        .where(Task.owner_id == user_id)
    ).one()
    return open_count or 0, done_count or 0


def transfer_user_tasks(
    session, from_user_id: int, to_user_id: int, include_closed: bool, share: tuple[int, int] | None
) -> int:
    """Give the user's tasks to ``to_user_id`` in one set-based UPDATE (with change events)."""
    selected = Task.owner_id == from_user_id
    if not include_closed:
        selected = and_(selected, Task.done.is_(False))
    if share is not None:
        selected = and_(selected, in_share(Task.id, selected, share))
    return update_records(session, Task, selected, {"owner_id": to_user_id})
