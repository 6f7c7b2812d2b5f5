"""Transfers as they are stored: looking one up, listing them, what their steps moved, and
the change-context keys that tie every change of a transfer (or of its undo) to it.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from opiekun.errors import Message
from opiekun.extensions import db
from opiekun.lookups import get_by_id
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
