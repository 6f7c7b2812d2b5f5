"""A record list's "Transfer to…": the selected records of departed owners given to one
user, as one finished (and undoable) transfer per former owner.
"""

from __future__ import annotations

from sqlalchemy import and_, select

from opiekun.changes import change_context, update_records
from opiekun.errors import Invalid, Message
from opiekun.extensions import db
from opiekun.models import User, utcnow
from opiekun.plugins.offboarding.models import Transfer, TransferStep
from opiekun.plugins.offboarding.notifications import notify_recipients
from opiekun.plugins.offboarding.planning import TransferPlan, check_recipient, check_sender, refuse_second_transfer
from opiekun.plugins.offboarding.transfers import TRANSFER_CONTEXT
from opiekun.record_registry import RecordType


def transfer_selection(record_type: RecordType, condition, to_user_id: int, user: User | None) -> list[Transfer]:
    """Give the records matching ``condition`` whose owner has departed to ``to_user_id``:
    one finished (and undoable) transfer per departed owner, in the caller's transaction.
    Refused (nothing changed) when the selection holds records of active owners."""
    model = record_type.model
    owners = db.session.execute(
        select(User.id, User.status).where(User.id.in_(select(model.owner_id).where(condition).distinct()))
    ).all()
    active = [owner_id for owner_id, status in owners if status != "departed"]
    if active:
        raise Invalid(
            Message("the selection holds records of active users"),
            {
                "selection": Message(
                    "%(count)s of the owners are active; filter by “owner is departed”", count=len(active)
                )
            },
        )
    transfers = []
    for owner_id, _status in owners:
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
