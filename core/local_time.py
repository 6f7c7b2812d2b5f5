"""Time as people see it. Every timestamp is stored in UTC; people see and type it in their
own time zone: the user's setting (``User.time_zone``), else the deployment's
(``OPIEKUN_TIME_ZONE``, by default Europe/Warsaw).

Flask-Babel converts for display (``format_datetime``) once its time zone selector
answers :func:`time_zone_name_of` the current user; the helpers here do the other way —
a time typed in the user's zone, and a day of the user's calendar, as UTC.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_app_context

#: The time zone of a deployment that sets none (``OPIEKUN_TIME_ZONE``).
DEFAULT_TIME_ZONE = "Europe/Warsaw"


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every time zone a user may choose (the IANA names Python knows), sorted."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_time_zone(name: object) -> bool:
    """``name`` is a time zone a user may choose."""
    return isinstance(name, str) and name in time_zone_names()


def deployment_time_zone() -> str:
    """The deployment's time zone: users who chose none see times in it."""
    if has_app_context():
        return current_app.extensions["opiekun.settings"].time_zone
    return DEFAULT_TIME_ZONE


def time_zone_name_of(user: object | None) -> str:
    """The time zone ``user`` sees times in (their choice, else the deployment's)."""
    chosen = getattr(user, "time_zone", None)
    return chosen if is_time_zone(chosen) else deployment_time_zone()


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_utc(local: dt.datetime, time_zone: str) -> dt.datetime:
    """A time read on the clock of ``time_zone`` (naive, or already aware) as UTC."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone(time_zone))
    return local.astimezone(dt.UTC)


def as_local(moment: dt.datetime, time_zone: str) -> dt.datetime:
    """A stored moment as the naive time on the clock of ``time_zone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(time_zone)).replace(tzinfo=None)


def days_as_utc(first_day: dt.date, last_day: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The moments from the start of ``first_day`` to the end of ``last_day`` (exclusive)
    in ``time_zone``, as UTC: what "created between these two days" means to its user."""
    start = dt.datetime.combine(first_day, dt.time.min)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min)
    return as_utc(start, time_zone), as_utc(end, time_zone)


def today_in(time_zone: str) -> dt.date:
    """Today's date on the clock of ``time_zone``."""
    return dt.datetime.now(zone(time_zone)).date()


def today() -> dt.date:
    """The company's today: the date on the deployment's clock. Days of the domain — an
    owner's period, a task's due date, a contract's end — are the company's days."""
    return today_in(deployment_time_zone())
