"""Calendar feeds: the long-lived, read-only tokens calendar apps subscribe with, and
which tasks a feed shows (as the token's holder may see them). Writing the iCalendar text
is :mod:`opiekun.plugins.tasks.calendar_feed`."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import or_, select

from opiekun.plugin import Message, Refused, User, company_today, db
from opiekun.plugins.tasks.models import CalendarKey, Task
from opiekun.plugins.tasks.services.task_lists import SeenTask, seen
from opiekun.plugins.tasks.services.visibility import Visibility

CALENDAR_SALT = "opiekun.tasks.calendar"


def _calendar_serializer():
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CALENDAR_SALT)


def calendar_generation(user_id: int) -> int:
    """The generation of the user's calendar tokens (1 until first rotated)."""
    return db.session.scalar(select(CalendarKey.generation).where(CalendarKey.user_id == user_id)) or 1


def calendar_token(user: User) -> str:
    """A long-lived token for calendar apps: read-only, for the feeds only, revoked by
    :func:`rotate_calendar_token`, by a password change or by leaving."""
    return _calendar_serializer().dumps(
        {"uid": user.id, "cal": calendar_generation(user.id), "gen": user.token_generation or 0}
    )


def rotate_calendar_token(user: User) -> str:
    """A new calendar token for ``user``; links with the older ones stop working."""
    key = db.session.get(CalendarKey, user.id)
    if key is None:
        db.session.add(CalendarKey(user_id=user.id, generation=2))
    else:
        key.generation += 1
    db.session.flush()
    return calendar_token(user)


def user_for_calendar_token(token: str) -> User | None:
    """The active user holding the calendar token ``token``. Only calendar tokens: the
    token travels in the feed's URL (and so into access logs), and an API token there
    would open the whole API to whoever reads the logs."""
    from itsdangerous import BadSignature

    try:
        payload = _calendar_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        return None
    user = db.session.get(User, payload["uid"])
    if (
        user is None
        or user.status != "active"
        or payload.get("gen") != (user.token_generation or 0)
        or payload.get("cal") != calendar_generation(user.id)
    ):
        return None
    return user


#: The feed covers tasks from this many days back (and everything ahead), at most FEED_LIMIT.
FEED_DAYS_BACK = 180
FEED_LIMIT = 5000


def calendar_tasks(holder: User, owner_id: int) -> list[SeenTask]:
    """The tasks of ``owner_id`` the holder may see, for the feed (403 if none at all)."""
    visibility = Visibility.of(holder)
    if not visibility.may_see_calendar_of(owner_id):
        raise Refused(Message("this user's calendar is not shared with you"))
    since = company_today() - dt.timedelta(days=FEED_DAYS_BACK)
    statement = (
        select(Task)
        .where(
            visibility.condition("free_busy"),
            Task.owner_id == owner_id,
            or_(Task.due_date >= since, Task.start >= dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)),
        )
        .order_by(Task.due_date, Task.id)
        .limit(FEED_LIMIT)
    )
    return seen(visibility, db.session.scalars(statement).unique().all())
