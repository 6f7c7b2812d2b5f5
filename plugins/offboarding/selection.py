"""A record list's "Transfer to…": the selected records of departed owners given to one
user, as one finished (and undoable) transfer per former owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from opiekun.plugin import Invalid, Message, PluralMessage, RecordType, User, change_context, db, update_records, utcnow
from opiekun.plugins.offboarding.models import Transfer, TransferStep
from opiekun.plugins.offboarding.notifications import notify_recipients
from opiekun.plugins.offboarding.planning import TransferPlan, check_recipient, check_sender, refuse_second_transfer
from opiekun.plugins.offboarding.transfers import TRANSFER_CONTEXT

#: Records named per former owner in a selection's summary (the rest are counted).
NAMED_RECORDS = 5


@dataclass(frozen=True)
class OwnerRecords:
    """The records of one owner among a selection: how many, and the first few by name."""

    owner: User
    count: int
    names: list[str]


@dataclass(frozen=True)
class SelectionOwners:
    """Whose the selected records are: "Transfer to…" gives those of departed owners (one
    transfer per owner), refuses a selection holding records of active owners and leaves
    records without an owner as they are."""

    departed: list[OwnerRecords]
    active: list[OwnerRecords]
    unowned: int

    @property
    def to_transfer(self) -> int:
        return sum(owner.count for owner in self.departed)


def selection_owners(record_type: RecordType, condition, named: int = NAMED_RECORDS) -> SelectionOwners:
    """The owners of the records matching ``condition``, departed and active (by name), with
    how many records each has there and the first ``named`` of a departed owner's, by id."""
    model = record_type.model
    counts = dict(
        db.session.execute(select(model.owner_id, func.count()).where(condition).group_by(model.owner_id)).all()
    )
    unowned = counts.pop(None, 0)
    owners = db.session.scalars(select(User).where(User.id.in_(list(counts))).order_by(User.name, User.id)).all()
    departed, active = [], []
    for owner in owners:
        if owner.status == "departed":
            names = db.session.scalars(
                select(model.display_name_expression())
                .where(condition, model.owner_id == owner.id)
                .order_by(model.id)
                .limit(named)
            ).all()
            departed.append(OwnerRecords(owner, counts[owner.id], [name or "" for name in names]))
        else:
            active.append(OwnerRecords(owner, counts[owner.id], []))
    return SelectionOwners(departed, active, unowned)


def transfer_selection(record_type: RecordType, condition, to_user_id: int, user: User | None) -> list[Transfer]:
    """Give the records matching ``condition`` whose owner has departed to ``to_user_id``:
    one finished (and undoable) transfer per departed owner, in the caller's transaction.
    Refused (nothing changed) when the selection holds records of active owners; records
    without an owner stay as they are (:func:`selection_owners` says so beforehand)."""
    model = record_type.model
    owners = selection_owners(record_type, condition, named=0)
    if owners.active:
        raise Invalid(
            Message("the selection holds records of active users"),
            {
                "selection": PluralMessage(
                    "%(num)d owner is active; filter by “owner is departed”",
                    "%(num)d owners are active; filter by “owner is departed”",
                    len(owners.active),
                )
            },
        )
    transfers = []
    for owner_id in (held.owner.id for held in owners.departed):
        plan = TransferPlan(from_user_id=owner_id, to_user_id=to_user_id, object_types=(record_type.name,))
        sender = check_sender(plan)
        check_recipient(to_user_id, sender, "to_user_id")
        refuse_second_transfer(owner_id)
        transfer = Transfer(
            from_user_id=owner_id,
            requested_by_id=user.id if user else None,
            origin="list",
            status="running",
            object_types=[record_type.name],
            include_closed=True,
            options={},
            started_at=utcnow(),
            moved=0,
            total=0,
        )
        step = TransferStep(position=0, object_type=record_type.name, to_user_id=to_user_id)
        transfer.steps = [step]
        db.session.add(transfer)
        db.session.flush()
        with change_context(**{TRANSFER_CONTEXT: transfer.id}):
            moved = update_records(
                db.session, model, and_(condition, model.owner_id == owner_id), {"owner_id": to_user_id}
            )
        step.moved, step.counts, step.done_at = moved, {"owner": moved}, utcnow()
        transfer.moved = transfer.total = moved
        transfer.status, transfer.finished_at = "done", utcnow()
        notify_recipients(transfer)
        transfers.append(transfer)
    return transfers
