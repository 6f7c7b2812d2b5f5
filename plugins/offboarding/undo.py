"""Undoing a transfer: every moved item put back with the core's ``update_records``, unless
the record changed since (those stay, each with the reason).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, not_, select, update

from opiekun.plugin import (
    Conflict,
    Message,
    RecordType,
    UndoRequest,
    User,
    change_context,
    db,
    record_types,
    update_records,
    utcnow,
)
from opiekun.plugins.offboarding.messages import status_label
from opiekun.plugins.offboarding.models import MovedItem
from opiekun.plugins.offboarding.moves import outcome_counts
from opiekun.plugins.offboarding.transfers import UNDO_CONTEXT, get_transfer, plugin_hooks


@dataclass(frozen=True)
class UndoResult:
    """How many moved items undo put back, and how many it kept."""

    restored: int
    kept: int


def _moved_group(
    transfer_id: int, object_type: str, field_name: str, new_value: int | None, outcome: str | None = None
):
    """The moved items of one transfer, type, field and new value, with ``outcome`` (``None``:
    not judged yet)."""
    return and_(
        MovedItem.transfer_id == transfer_id,
        MovedItem.object_type == object_type,
        MovedItem.field == field_name,
        MovedItem.new_value.is_not_distinct_from(new_value),
        MovedItem.outcome.is_not_distinct_from(outcome),
    )


def _judge_group(record_type: RecordType | None, field_name: str, group) -> None:
    """Mark each moved item of a group: ``restored`` when the record still holds what the
    transfer put there and was not changed since; otherwise why it stays."""
    if record_type is None:  # the plugin that defined the type is off: nothing to put back
        db.session.execute(update(MovedItem).where(group).values(outcome="deleted"))
        return
    model = record_type.model
    column = getattr(model, field_name)
    existing = select(model.id)
    untouched = (
        select(model.id)
        .where(model.id == MovedItem.object_id, column == MovedItem.new_value, model.updated_at <= MovedItem.moved_at)
        .exists()
    )
    reassigned = (
        select(model.id).where(column.is_distinct_from(MovedItem.new_value), model.id == MovedItem.object_id).exists()
    )
    db.session.execute(
        update(MovedItem).where(group, not_(MovedItem.object_id.in_(existing))).values(outcome="deleted")
    )
    db.session.execute(update(MovedItem).where(group, untouched).values(outcome="restored"))
    db.session.execute(update(MovedItem).where(group, reassigned).values(outcome="reassigned"))
    db.session.execute(update(MovedItem).where(group).values(outcome="changed"))


def _restore_group(record_type: RecordType, field_name: str, restored) -> int:
    """Put back the items of ``restored`` (a group judged ``restored``): one set-based change
    per former value."""
    model = record_type.model
    count = 0
    for old_value in db.session.scalars(select(MovedItem.old_value).where(restored).distinct()).all():
        ids = select(MovedItem.object_id).where(restored, MovedItem.old_value.is_not_distinct_from(old_value))
        count += update_records(db.session, model, model.id.in_(ids), {field_name: old_value})
    return count


def undo_transfer(transfer_id: int, user: User | None) -> UndoResult:
    """Put every moved item back unless it changed since the transfer (those are kept and
    listed with the reason): the record fields this plugin recorded, then, through
    ``opiekun_undo_transfer``, what other plugins moved of their own (deputy periods…).
    All or nothing, in the caller's transaction."""
    transfer = get_transfer(transfer_id, lock=True)
    if transfer.status == "undone":
        raise Conflict(
            Message("transfer %(id)s was already undone", id=transfer.id), {"status": Message("already undone")}
        )
    if transfer.status not in ("done", "failed"):
        raise Conflict(
            Message("transfer %(id)s is %(status)s", id=transfer.id, status=status_label(transfer.status)),
            {"status": Message("wait until the transfer has finished")},
        )
    registry = record_types()
    groups = db.session.execute(
        select(MovedItem.object_type, MovedItem.field, MovedItem.new_value)
        .where(MovedItem.transfer_id == transfer.id, MovedItem.outcome.is_(None))
        .distinct()
    ).all()
    with change_context(**{UNDO_CONTEXT: transfer.id}):
        for object_type, field_name, new_value in groups:
            record_type = registry.get(object_type)
            _judge_group(record_type, field_name, _moved_group(transfer.id, object_type, field_name, new_value))
            if record_type is not None:
                _restore_group(
                    record_type,
                    field_name,
                    _moved_group(transfer.id, object_type, field_name, new_value, outcome="restored"),
                )
        plugin_hooks().undo_transfer(db.session, UndoRequest(transfer.id, transfer.from_user_id))
    totals: Counter[str] = Counter()
    for counts in outcome_counts(transfer.id).values():
        totals.update(counts)
    restored = totals.pop("restored", 0)
    kept = sum(totals.values())
    transfer.status = "undone"
    transfer.undone_at = utcnow()
    transfer.undone_by_id = user.id if user else None
    transfer.restored, transfer.kept = restored, kept
    return UndoResult(restored, kept)
