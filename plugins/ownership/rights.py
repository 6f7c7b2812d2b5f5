"""Who may change owners, and the rule every record is checked against when it is saved:
owner required (per type), the owner chosen only by roles the type allows, never by a
deputy. A deputy with write access edits the record; it does not hand its ownership around."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, select

from opiekun.plugin import Message, RecordType, Refused, User, db, has_permission
from opiekun.plugins.ownership.lookups import acting_user
from opiekun.plugins.ownership.periods import deputy_with_write_access, has_write_deputyship, today
from opiekun.plugins.ownership.settings import may_change_owners, settings_for


def require_owner_change_right(user: User | None, record_type: RecordType) -> None:
    """403 unless the type's ``change_roles`` let ``user``'s role change owners."""
    if not may_change_owners(user, record_type.name):
        raise Refused(
            Message(
                "your role (%(role)s) may not change owners of %(types)s; an admin chooses who may in the "
                "ownership settings",
                role=user.role,
                types=record_type.label_plural.lower(),
            )
        )


def only_a_deputy(user: User | None, record_type: RecordType, record_id: int | None, owner_id: int | None) -> bool:
    """``user``'s right to change the record (``owner_id`` owns it now) comes from a deputy
    period alone: not its owner, not a record without owner, no ``records.edit_others``.
    A deputy edits the record; it does not take it over (change its owner) or delete it."""
    if user is None or record_id is None or owner_id in (None, user.id) or has_permission(user, "records.edit_others"):
        return False
    return has_write_deputyship(user.id, record_type.name, record_id)


def require_owner_choice_right(
    user: User | None,
    record_type: RecordType,
    record: Any,
    operation: str,
    new_owner_id: int | None,
    owner_id_before: int | None,
) -> None:
    """Choosing the record's owner: giving a new record to someone else than oneself, or
    changing the owner of an existing one, needs a role the type's ``change_roles``
    allows; and a deputy does not change the owner of the record it stands in for."""
    if operation == "create":
        if user is not None and new_owner_id != user.id:
            require_owner_change_right(user, record_type)
        return
    require_owner_change_right(user, record_type)
    if only_a_deputy(user, record_type, record.id, owner_id_before):
        raise Refused(
            Message(
                "a deputy edits this %(type)s but does not change its owner; its owner or a manager does",
                type=record_type.name,
            ),
            {"owner_id": Message("not changed by a deputy")},
        )


def refused_records(user: User | None, record_type: RecordType, condition) -> list[int]:
    """Ids among the records matching ``condition`` whose owners ``user`` may not change
    (give them owner periods, change or remove those).

    Set-based for the common rules (own records, records without owner,
    ``records.edit_others``); the few records that fail those go through the core's full
    rule (which asks every plugin), one by one — except that a deputy period gives no such
    right: a deputy edits the record, it does not hand its ownership around.
    """
    if user is None or has_permission(user, "records.edit_others"):
        return []
    model = record_type.model
    suspects = list(
        db.session.scalars(
            select(model.id)
            .where(condition, model.owner_id.is_not(None), model.owner_id != user.id)
            .order_by(model.id)
            .limit(1001)
        )
    )
    if not suspects:
        return []
    from opiekun.plugin import may_change

    judged = suspects[:200]
    deputyships = set(
        db.session.scalars(
            select(model.id).where(
                model.id.in_(judged), deputy_with_write_access(user.id, record_type.name, model.id, today())
            )
        )
    )
    refused = [
        record.id
        for record in db.session.scalars(select(model).where(model.id.in_(judged)).order_by(model.id))
        if record.id in deputyships or not may_change(user, record_type, record, "update")
    ]
    return refused + suspects[200:]


def owner_problems(record_type: RecordType, record: Any, operation: str) -> dict[str, str]:
    """Owner required (per type), and who may choose the owner (403 otherwise; see
    :func:`require_owner_choice_right`)."""
    with db.session.no_autoflush:  # the record's pending changes are what is being judged
        owner_id_before, owner_id_now, changed = owner_change_of(record)
        settings = settings_for(record_type.name)
        if settings.owner_required and owner_id_now is None:
            return {
                "owner_id": f"an owner is required for {record_type.label_plural.lower()}: choose a user (owner_id)"
            }
        if operation == "create" or changed:
            require_owner_choice_right(acting_user(), record_type, record, operation, owner_id_now, owner_id_before)
    return {}


def owner_change_of(record: Any) -> tuple[int | None, int | None, bool]:
    """The record's owner id before its pending changes, after them, and whether they change
    it. The API sets ``owner_id``; the admin's form sets the ``owner`` relationship."""
    state = inspect(record)
    by_id, by_user = state.attrs.owner_id.history, state.attrs.owner.history
    if by_user.has_changes():
        before = by_user.deleted[0].id if by_user.deleted and by_user.deleted[0] is not None else record.owner_id
        now = record.owner.id if record.owner is not None else None
        return before, now, True
    if by_id.has_changes():
        before = by_id.deleted[0] if by_id.deleted else None
        return before, record.owner_id, True
    if record.owner_id is not None:
        return record.owner_id, record.owner_id, False
    owner = record.owner.id if record.owner is not None else None
    return owner, owner, False


def may_change_owners_of(user: User | None, record_type: RecordType, record_id: int) -> bool:
    """``user`` may give the record owner periods, change or end them (the record's page
    offers the buttons when this holds; the services check the same rules)."""
    return may_change_owners(user, record_type.name) and not refused_records(
        user, record_type, record_type.model.id == record_id
    )
