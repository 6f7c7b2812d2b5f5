"""What a transfer moved, learnt from the change stream: every change made while a transfer
runs carries ``offboarding_transfer_id`` in its context, and :func:`record_moves` copies the
changed user references into ``offboarding_moved_items`` (``INSERT … SELECT`` for set-based
changes). Other plugins add the rows they moved of their own (hook ``opiekun_moved_items``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from opiekun.plugin import MOVED_ITEM_COLUMNS, ChangeSet, db
from opiekun.plugins.offboarding.models import MovedItem
from opiekun.plugins.offboarding.transfers import TRANSFER_CONTEXT, plugin_hooks


def _is_user_reference(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def record_moves(session: Session, change_set: ChangeSet) -> None:
    """The change-stream hook: inside a transfer, remember every user reference that
    changed (``owner_id`` and the like) — set-based changes with ``INSERT … SELECT``."""
    transfer_id = change_set.context.get(TRANSFER_CONTEXT)
    if transfer_id is None:
        return
    columns = ["transfer_id", "object_type", "object_id", "field", "object_name", "old_value", "new_value", "moved_at"]
    for bulk in change_set.bulk:
        if bulk.operation != "update":  # events about the record (owner_assigned…), not its columns
            continue
        for name, value in bulk.new_values.items():
            if not _is_user_reference(value):
                continue
            rows = bulk.rows.c
            source = select(
                literal(transfer_id, Integer),
                literal(bulk.object_type, String),
                rows.object_id,
                literal(name, String),
                rows.object_name,
                rows[f"old_{name}"],
                literal(value, Integer),
                literal(change_set.at, MovedItem.moved_at.type),
            )
            session.execute(insert(MovedItem).from_select(columns, source))
    moves = [
        {
            "transfer_id": transfer_id,
            "object_type": change.object_type,
            "object_id": change.object_id,
            "field": item.field,
            "object_name": change.object_name,
            "old_value": item.old,
            "new_value": item.new,
            "moved_at": change_set.at,
        }
        for change in change_set.records
        if change.operation == "update"
        for item in change.changes
        if _is_user_reference(item.new)
    ]
    if moves:
        session.execute(insert(MovedItem), moves)


def every_moved_item(transfer_id: int):
    """Every item transfer ``transfer_id`` moved, as one subquery with the columns of
    :data:`~opiekun.user_items.MOVED_ITEM_COLUMNS`: the record fields this plugin recorded
    and the rows of their own other plugins moved (``opiekun_moved_items``: deputy periods…)."""
    own = select(*(MovedItem.__table__.c[name] for name in MOVED_ITEM_COLUMNS)).where(
        MovedItem.transfer_id == transfer_id
    )
    return union_all(own, *plugin_hooks().moved_items(transfer_id)).subquery("moved_items")


def moved_items(transfer_id: int, outcome: str | None = None, kept_only: bool = False):
    """The items of a transfer (all, those with one ``outcome``, or those undo kept), in
    record type, record and field order."""
    items = every_moved_item(transfer_id)
    statement = select(items)
    if kept_only:
        statement = statement.where(items.c.outcome.is_not(None), items.c.outcome != "restored")
    elif outcome is not None:
        statement = statement.where(items.c.outcome == outcome)
    return statement.order_by(items.c.object_type, items.c.object_id, items.c.field, items.c.new_value)


def outcome_counts(transfer_id: int) -> dict[tuple[str, str], dict[str, int]]:
    """After undo: ``{(object_type, what): {outcome: count}}`` — what was put back, what was
    kept. ``what`` is the moved field (``owner_id``…) of a record, or the kind of item a
    plugin moved of its own (``deputy``, ``planned_owner``…)."""
    items = every_moved_item(transfer_id)
    rows = db.session.execute(
        select(items.c.object_type, items.c.field, items.c.outcome, func.count())
        .where(items.c.outcome.is_not(None))
        .group_by(items.c.object_type, items.c.field, items.c.outcome)
    ).all()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for object_type, what, outcome, count in rows:
        counts.setdefault((object_type, what), {})[outcome] = count
    return counts
