"""What a user owns or is responsible for, and moving it to someone else.

Offboarding asks every plugin, through two hooks, what a user has and to move it; these
are the values those hooks exchange. The core answers for its own record types in
:mod:`opiekun.records`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
    :param share: ``(k, n)`` moves only items whose id modulo ``n`` is ``k`` — the set-based
        way to split a user's items evenly across ``n`` recipients.
    :param options: plugin-specific switches (e.g. ``persons_follow_company``).
    """

    from_user_id: int
    to_user_id: int
    object_types: frozenset[str]
    include_closed: bool = True
    share: tuple[int, int] | None = None
    options: dict[str, Any] | None = None


@dataclass(frozen=True)
class TransferResult:
    object_type: str
    moved: int
