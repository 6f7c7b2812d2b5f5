"""Sharing a user's tasks: grants of a level (``none`` … ``full``) on all their tasks or
on one type. Users share their own tasks; holders of ``tasks.share_others`` anyone's."""

from __future__ import annotations

from sqlalchemy import or_, select

from opiekun.plugin import Invalid, Message, NotFound, Refused, User, db, find_by_id, has_permission
from opiekun.plugins.tasks.models import SHARING_LEVELS, TaskShare, TaskType
from opiekun.plugins.tasks.permissions import SHARE_OTHERS
from opiekun.plugins.tasks.services.validation import check_user


def list_shares(viewer: User, owner_id: int | None = None, grantee_id: int | None = None):
    """The SELECT of the grants ``viewer`` may see: those on their tasks and those given to
    them (all of them with ``tasks.share_others``)."""
    statement = select(TaskShare).order_by(
        TaskShare.owner_id, TaskShare.grantee_id, TaskShare.task_type_id.is_not(None), TaskShare.task_type_id
    )
    if not has_permission(viewer, SHARE_OTHERS.name):
        statement = statement.where(or_(TaskShare.owner_id == viewer.id, TaskShare.grantee_id == viewer.id))
    if owner_id is not None:
        statement = statement.where(TaskShare.owner_id == owner_id)
    if grantee_id is not None:
        statement = statement.where(TaskShare.grantee_id == grantee_id)
    return statement


def set_share(
    actor: User, owner_id: int | None, grantee_id: int, task_type_id: int | None, level: str
) -> tuple[TaskShare, bool]:
    """Share ``owner_id``'s tasks (one type or all) with ``grantee_id`` at ``level``;
    replaces the grant for the same scope. Users share their own tasks; holders of
    ``tasks.share_others`` (admins) anyone's. Returns the grant and whether it is new."""
    owner_id = owner_id or actor.id
    if owner_id != actor.id and not has_permission(actor, SHARE_OTHERS.name):
        raise Refused(Message("you may share only your own tasks"), {"owner_id": Message("not yours")})
    if level not in SHARING_LEVELS:
        raise Invalid(
            Message("unknown level"), {"level": Message("one of %(levels)s", levels=", ".join(SHARING_LEVELS))}
        )
    problems: dict[str, str] = {}
    if find_by_id(User, owner_id) is None:
        problems["owner_id"] = Message("no user with id %(id)s", id=owner_id)
    check_user(grantee_id, "grantee_id", problems)
    if owner_id == grantee_id:
        problems["grantee_id"] = Message("a user always sees their own tasks")
    if task_type_id is not None and find_by_id(TaskType, task_type_id) is None:
        problems["task_type_id"] = Message("no task type with id %(id)s", id=task_type_id)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    scope = TaskShare.task_type_id.is_(None) if task_type_id is None else TaskShare.task_type_id == task_type_id
    share = db.session.scalar(
        select(TaskShare).where(TaskShare.owner_id == owner_id, TaskShare.grantee_id == grantee_id, scope)
    )
    created = share is None
    if created:
        share = TaskShare(owner_id=owner_id, grantee_id=grantee_id, task_type_id=task_type_id, level=level)
        db.session.add(share)
    else:
        share.level = level
    db.session.flush()
    return share, created


def delete_share(actor: User, share_id: int) -> None:
    """Withdraw a grant: its owner (or an admin) may; its grantee is refused (403), anyone
    else does not learn it exists (404)."""
    share = find_by_id(TaskShare, share_id)
    if share is None or (
        share.owner_id != actor.id and share.grantee_id != actor.id and not has_permission(actor, SHARE_OTHERS.name)
    ):
        raise NotFound(Message("no sharing grant with id %(id)s", id=share_id))
    if share.owner_id != actor.id and not has_permission(actor, SHARE_OTHERS.name):
        raise Refused(Message("only the owner of the tasks (or an admin) may withdraw a grant"))
    db.session.delete(share)
    db.session.flush()
