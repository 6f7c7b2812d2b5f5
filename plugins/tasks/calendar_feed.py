"""Writing a user's tasks as an iCalendar feed (RFC 5545, with the ``icalendar`` library).

Each task with a day or a time becomes a ``VEVENT`` (calendar apps show events, while
many ignore ``VTODO``): an appointment from ``start`` to ``end`` (an hour when no end),
a task with only a day as an all-day event. A task seen at ``free_busy`` level carries
no title, description, record or type: its summary is just "Busy" and it is marked
``CLASS:CONFIDENTIAL``.

The feed's own words ("Busy", "Type", "Record", "Done", record types) are in the language
of the user whose feed it is (their ``locale``; Polish by default): a calendar app sends
no session and no useful ``Accept-Language``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import current_app
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event

from opiekun.plugin import User, record_types, utcnow

PRIORITY_VALUES = {"high": 1, "normal": 5, "low": 9}


def feed_language(user: User) -> str:
    """The language ``user``'s feed is written in: theirs when the panel has it, else the
    default (Polish)."""
    languages = current_app.config.get("LANGUAGES") or ()
    return user.locale if user.locale in languages else current_app.config.get("BABEL_DEFAULT_LOCALE", "pl")


def record_text(object_type: str, object_id: int | None) -> str:
    """The record a task is on, by its type's label in the feed's language ("Firma #12")."""
    record_type = record_types().get(object_type)
    label = gettext(record_type.label) if record_type is not None else object_type
    return gettext("Record: %(type)s #%(id)s", type=label, id=object_id)


def _event(seen_task, stamp: dt.datetime, host: str) -> Event | None:
    task, level = seen_task.task, seen_task.level
    event = Event()
    event.add("uid", f"task-{task.id}@{host}")
    event.add("dtstamp", stamp)
    if task.start is not None:
        event.add("dtstart", task.start)
        event.add("dtend", task.end or task.start + dt.timedelta(hours=1))
    elif task.due_date is not None:
        event.add("dtstart", task.due_date)
        event.add("dtend", task.due_date + dt.timedelta(days=1))
    else:
        return None
    event.add("transp", "OPAQUE")
    if level == "free_busy":
        event.add("summary", gettext("Busy"))
        event.add("class", "CONFIDENTIAL")
        return event
    event.add("summary", task.title)
    event.add("last-modified", task.updated_at)
    event.add("priority", PRIORITY_VALUES.get(task.priority, 5))
    event.add("categories", [task.type.name])
    if task.private:
        event.add("class", "PRIVATE")
    details = [gettext("Type: %(name)s", name=task.type.name)]
    if task.object_type:
        details.append(record_text(task.object_type, task.object_id))
    if task.done:
        details.append(gettext("Done"))
    if task.description:
        details.append(task.description)
    event.add("description", "\n".join(details))
    return event


def feed_url(user_id: int, token: str) -> str:
    """The address a calendar app subscribes to: ``user_id``'s tasks, read with ``token``
    (served by the API's ``calendar_feed``)."""
    from flask import url_for

    return url_for("tasks_calendar.feed", user_id=user_id, token=token, _external=True)


def feed_of(owner: User, seen_tasks: Sequence, host: str = "opiekun") -> bytes:
    """The feed of ``owner``'s tasks (each with the holder's level), in ``owner``'s language."""
    feed = Calendar()
    feed.add("prodid", "-//Opiekun//tasks//PL")
    feed.add("version", "2.0")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", f"Opiekun: {owner.name}")
    stamp = utcnow().replace(microsecond=0)
    with force_locale(feed_language(owner)):
        for seen_task in seen_tasks:
            event = _event(seen_task, stamp, host)
            if event is not None:
                feed.add_component(event)
    return feed.to_ical()
