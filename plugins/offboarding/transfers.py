"""Transfers as they are stored: looking one up, listing them, what their steps moved, and
the change-context keys that tie every change of a transfer (or of its undo) to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from opiekun.plugin import Message, db, get_by_id
from opiekun.plugins.offboarding.models import UNDER_WAY, Transfer

#: The change-context key that ties every change of a transfer to it (audit shows it).
TRANSFER_CONTEXT = "offboarding_transfer_id"
#: The key of an undo's changes: they are history, but not moves to record.
UNDO_CONTEXT = "offboarding_undo_of"
#: The background job that runs a transfer's steps (:mod:`.jobs`).
TRANSFER_JOB = "offboarding.transfer"


def plugin_hooks():
    """The app's plugins, through which offboarding asks every plugin for its items."""
    return current_app.extensions["opiekun.plugins"]


def get_transfer(transfer_id: int, *, lock: bool = False) -> Transfer:
    """The transfer, or 404. ``lock`` loads it for a change of its state (run, resume,
    undo): locked until the transaction ends, on SQLite too (the database's write lock),
    with its current status, so of concurrent requests one acts and the others see what
    it did (an undo claimed twice at once answers 409 to the second)."""
    return get_by_id(Transfer, transfer_id, Message("no transfer %(id)s", id=transfer_id), for_change=lock)


def list_transfers(from_user_id: int | None = None, status: str | None = None):
    """The SELECT of the transfers (of one user, with one status), newest first."""
    statement = select(Transfer)
    if from_user_id is not None:
        statement = statement.where(Transfer.from_user_id == from_user_id)
    if status is not None:
        statement = statement.where(Transfer.status == status)
    return statement.order_by(Transfer.id.desc())


def transfer_under_way(user_id: int) -> int | None:
    """The id of the user's transfer that is queued or running, if any."""
    return db.session.scalar(
        select(Transfer.id).where(Transfer.from_user_id == user_id, Transfer.status.in_(UNDER_WAY))
    )


def counts_by_type(transfer: Transfer) -> dict[str, dict[str, int]]:
    """``{object_type: {kind: moved}}`` over the steps done."""
    counts: dict[str, dict[str, int]] = {}
    for step in transfer.steps:
        for kind, count in (step.counts or {}).items():
            per_type = counts.setdefault(step.object_type, {})
            per_type[kind] = per_type.get(kind, 0) + count
    return counts


class StepLike(Protocol):
    """A step, planned (:class:`~opiekun.plugins.offboarding.planning.PlannedStep`) or stored
    (:class:`~opiekun.plugins.offboarding.models.TransferStep`)."""

    @property
    def object_type(self) -> str: ...

    @property
    def share(self) -> tuple[int, int] | None: ...

    @property
    def follow_company(self) -> bool: ...


def split_parts(steps: Sequence[StepLike]) -> list[tuple[int, int] | None]:
    """For each step, the part of its record type it gives when the type is shared across a
    team: ``(numerator, denominator)`` of the sharer's weight over every sharer's weights,
    in lowest terms (weights 1, 1, 1: ``(1, 3)`` each); ``None`` for a type given whole and
    for the records that follow their company.

    The steps store how the job runs a share (``take`` of every ``of`` left, the last
    sharer everything left); the part of the whole is what a person means."""
    parts: list[tuple[int, int] | None] = [None] * len(steps)
    sharing: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        if not step.follow_company:
            sharing.setdefault(step.object_type, []).append(index)
    for indexes in sharing.values():
        first = steps[indexes[0]].share
        if len(indexes) < 2 or first is None:
            continue  # the type goes whole to one user
        total = left = first[1]
        for index in indexes:
            share = steps[index].share
            weight = share[0] if share is not None else left  # the last sharer: every weight left
            divisor = gcd(weight, total)
            parts[index] = (weight // divisor, total // divisor)
            left -= weight
    return parts
