"""What offboarding tells users in the app: the administrators, that a user departed; each
recipient, what a transfer gave them — each in their own language (the text is written
when the notification is made, so in the recipient's ``locale``, not the actor's).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opiekun.plugin import (
    Notification,
    User,
    active_administrators,
    db,
    language_of,
    notify_users,
    record_types,
)
from opiekun.plugins.offboarding.models import Transfer


def counts_by_recipient(transfer: Transfer) -> dict[int, dict[str, int]]:
    """``{user id: {object_type: moved}}`` over the steps that moved something."""
    counts: dict[int, dict[str, int]] = {}
    for step in transfer.steps:
        if step.moved:
            per_user = counts.setdefault(step.to_user_id, {})
            per_user[step.object_type] = per_user.get(step.object_type, 0) + step.moved
    return counts


def received_text(total: int, sender_name: str, per_type: dict[str, int]) -> str:
    """What a recipient got, in the current language: "Otrzymujesz 10 elementów użytkownika
    Stefan Sprzedawca (Firmy: 6, Szanse sprzedaży: 3, Zadania: 1)."."""
    from flask_babel import gettext, ngettext

    labels = {record_type.name: gettext(record_type.label_plural) for record_type in record_types()}
    listing = ", ".join(f"{labels.get(name, name)}: {count}" for name, count in per_type.items())
    return ngettext(
        "You received %(num)d item of %(name)s (%(listing)s).",
        "You received %(num)d items of %(name)s (%(listing)s).",
        total,
        name=sender_name,
        listing=listing,
    )


def notify_recipients(transfer: Transfer) -> None:
    """Each recipient learns, in the app and in their language, how many items of which
    types they got and from whom. The departed user is told nothing: they are gone."""
    from flask_babel import force_locale

    sender = transfer.from_user
    received = counts_by_recipient(transfer)
    locales = dict(db.session.execute(select(User.id, User.locale).where(User.id.in_(list(received)))).all())
    for user_id, per_type in received.items():
        with force_locale(language_of(locales.get(user_id))):
            message = received_text(sum(per_type.values()), sender.name, per_type)
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
    """One in-app notification per active administrator (the one who acted included), in
    their language."""
    from flask_babel import gettext

    notify_users(
        session,
        [(admin_id, locale) for admin_id, locale in active_administrators(session) if admin_id != user.id],
        "offboarding.departed",
        lambda: gettext("%(name)s has departed: review and reassign their items.", name=user.name),
        object_type="user",
        object_id=user.id,
        data={"user_id": user.id},
    )


def notify_of_departures_while_off(session: Session, gap) -> int:
    """Users who departed while the plugin was off (``gap``): the administrators get the
    notification its ``opiekun_user_departed`` would have given; returns how many users."""
    departed = session.scalars(
        select(User).where(
            User.status == "departed", User.departed_at >= gap.off_from, User.departed_at <= gap.off_until
        )
    ).all()
    for user in departed:
        notify_admins_of_departure(session, user, None)
    return len(departed)
