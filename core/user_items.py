"""What a user owns or is responsible for, and moving it to someone else.

Offboarding asks every plugin, through two hooks, what a user has and to move it; these
are the values those hooks exchange. The core answers for its own record types in
:mod:`opiekun.record_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, not_, select


@dataclass(frozen=True)
class ItemCount:
    """How many items of one kind a user has: open ones and closed ones (won/lost deals,
    paid invoices, done tasks…). ``kind`` says how the user holds them (``owner``,
    ``responsible``, ``deputy``…)."""

    object_type: str
    label: str
    open: int
    closed: int = 0
    kind: str = "owner"

    @property
    def total(self) -> int:
        return self.open + self.closed


@dataclass(frozen=True)
class TransferRequest:
    """Move items of ``from_user_id`` to ``to_user_id``.

    :param object_types: the record/item types to move; a plugin moves only the types it
        knows and ignores the rest.
    :param include_closed: move closed items too (default, as Bitrix24 recommends).
    :param share: ``(take, of)`` moves only ``take`` of every ``of`` of the items that would
        move, in id order — the set-based way to split a user's items evenly (round-robin by
        count) across recipients; build the condition with :func:`in_share`.
    :param options: the transfer's switches: those the plugins declare
        (:class:`TransferOption`, e.g. ownership's ``promote_deputies``), each with its
        value or default, and offboarding's own — ``follow_company_only`` (this step moves
        only records whose company the recipient owns; plugins without such records do
        nothing).
    :param transfer_id: the transfer this move is part of. Record columns moved with
        ``update_records`` need nothing more; a plugin that moves rows of its own (deputy
        periods…) keeps what it moved under this id, to put it back in ``opiekun_undo_transfer``.
    """

    from_user_id: int
    to_user_id: int
    object_types: frozenset[str]
    include_closed: bool = True
    share: tuple[int, int] | None = None
    options: dict[str, Any] | None = None
    transfer_id: int | None = None


def in_share(id_column, selected, share: tuple[int, int] | None):
    """The condition "this row is in the share": ``take`` of every ``of`` rows matching
    ``selected``, counted in id order. ``None`` when there is no share (everything moves).

    Offboarding splits a user's items across recipients one after another: the first of
    three takes ``(1, 3)`` of all, the second ``(1, 2)`` of what is left, the last
    ``(1, 1)`` — so the counts differ by one at most, whatever the ids are.
    """
    if share is None:
        return None
    take, of = share
    rank = (func.row_number().over(order_by=id_column) - 1).label("rank")
    ranked = select(id_column.label("item_id"), rank).where(selected).subquery()
    return id_column.in_(select(ranked.c.item_id).where(ranked.c.rank % of < take))


def records_to_move(record_type, from_user_id: int, include_closed: bool = True, share: tuple[int, int] | None = None):
    """The condition for the records of a registered type that a transfer of
    ``from_user_id``'s items moves: owned by them, open ones only unless
    ``include_closed``, within ``share``. The core's transfer hook moves exactly these;
    a plugin that acts on the same records before they move (ownership's deputies) uses
    it too."""
    model = record_type.model
    held = model.owner_id == from_user_id
    if not include_closed and record_type.closed is not None:
        held = and_(held, not_(record_type.closed()))
    if share is not None:
        held = and_(held, in_share(model.id, held, share))
    return held


@dataclass(frozen=True)
class TransferOption:
    """A switch a plugin offers on every transfer (hook ``opiekun_transfer_options``).
    Offboarding knows none by name: it shows each in its form (label, description,
    default), accepts it in the API's ``options`` (a name no enabled plugin offers is a
    422) and hands its value to every plugin in ``TransferRequest.options``.

    :param name: the key in ``options``; unique across plugins.
    :param label: a short label (translated where shown: give a lazy ``gettext``).
    :param description: one sentence saying what it does.
    :param default: its value when the admin or the API does not give it.
    :param redirects: ``True`` when switching it on sends items to someone else than the
        chosen recipient: the preview's counts are then upper bounds.
    """

    name: str
    label: str
    description: str
    default: bool = False
    redirects: bool = False


@dataclass(frozen=True)
class TransferResult:
    """How many items of one type a plugin moved (``kind`` as in :class:`ItemCount`)."""

    object_type: str
    moved: int
    kind: str = "owner"


#: What undo does with a moved item: put it back, or leave it because it was deleted, given
#: to someone else, or changed since the transfer.
UNDO_OUTCOMES = ("restored", "deleted", "reassigned", "changed")


@dataclass(frozen=True)
class UndoRequest:
    """Put back what transfer ``transfer_id`` (of ``from_user_id``'s items) moved."""

    transfer_id: int
    from_user_id: int


#: The columns, in this order, of the SELECT a plugin's ``opiekun_moved_items`` answers with:
#: one row per item of its own a transfer moved (or ended). ``field`` says what moved: the
#: kind of item (``deputy``, ``planned_owner``…). ``old_value`` / ``new_value``: the user
#: who held the item before and after the transfer (``new_value`` empty: the transfer ended
#: it). ``moved_at``: when. ``outcome``: empty until undo, then one of :data:`UNDO_OUTCOMES`.
MOVED_ITEM_COLUMNS = (
    "object_type",
    "object_id",
    "object_name",
    "field",
    "old_value",
    "new_value",
    "moved_at",
    "outcome",
)
