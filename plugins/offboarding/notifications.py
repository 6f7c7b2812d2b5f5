"""What offboarding tells users in the app: the administrators, that a user departed; each
recipient, what a transfer gave them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opiekun.extensions import db
from opiekun.models import Notification, User
from opiekun.plugins.offboarding.models import Transfer
from opiekun.record_registry import record_types


def counts_by_recipient(transfer: Transfer) -> dict[int, dict[str, int]]:
    """``{user id: {object_type: moved}}`` over the steps that moved something."""
    counts: dict[int, dict[str, int]] = {}
    for step in transfer.steps:
        if step.moved:
            per_user = counts.setdefault(step.to_user_id, {})
            per_user[step.object_type] = per_user.get(step.object_type, 0) + step.moved
    return counts


def notify_recipients(transfer: Transfer) -> None:
    """Each recipient learns, in the app, how many items of which types they got and from
    whom. The departed user is told nothing: they are gone."""
    from flask_babel import gettext, ngettext

    labels = {record_type.name: gettext(record_type.label_plural) for record_type in record_types()}
    sender = transfer.from_user
    for user_id, per_type in counts_by_recipient(transfer).items():
        total = sum(per_type.values())
        listing = ", ".join(f"{labels.get(name, name)}: {count}" for name, count in per_type.items())
        message = ngettext(
            "You received %(num)d item of %(name)s (%(listing)s).",
            "You received %(num)d items of %(name)s (%(listing)s).",
            total,
            name=sender.name,
            listing=listing,
        )
        db.session.add(
            Notification(
                user_id=user_id,
                kind="offboarding.received",
                message=message,
                object_type="offboarding_transfer",
                object_id=transfer.id,
                data={"transfer_id": transfer.id, "from_user_id": sender.id, "counts": per_type},
            )
        )


def notify_admins_of_departure(session: Session, user: User, actor) -> None:
    """One in-app notification per active administrator (the one who acted included)."""
    from flask_babel import gettext

    message = gettext("%(name)s has departed: review and reassign their items.", name=user.name)
    admins = session.scalars(
        select(User.id).where(User.role == "admin", User.status == "active", User.id != user.id)
    ).all()
    session.add_all(
        Notification(
            user_id=admin_id,
            kind="offboarding.departed",
            message=message,
            object_type="user",
            object_id=user.id,
            data={"user_id": user.id},
        )
        for admin_id in admins
    )
