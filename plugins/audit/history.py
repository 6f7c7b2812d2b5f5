"""Reading the history: the filters of the list, the API and the export, and the entries
they match, newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select

from opiekun.plugin import (
    Invalid,
    Message,
    Total,
    User,
    count_rows,
    count_up_to,
    days_as_utc,
    db,
    gaps_of,
    is_possible_id,
    is_time_zone,
    page_of,
    record_types,
    replica_reads,
)
from opiekun.plugins.audit.entries import ANONYMIZE, ENTRIES, OWNER_CHANGED, operations_named
from opiekun.plugins.audit.models import AuditEntry

#: The operations the history records of every record type (plugins add their events).
BASE_OPERATIONS = ("create", "update", OWNER_CHANGED, "delete", ANONYMIZE)


@dataclass(frozen=True)
class HistoryFilter:
    """The filters of the history list, the API and the export (all optional)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    user_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    operation: str | None = None
    #: whose days ``date_from`` and ``date_to`` are: the admin's user's; the API's are UTC
    time_zone: str = "UTC"

    def as_params(self) -> dict[str, str]:
        """The filter as query-string values (a job's arguments, the admin's links)."""
        params = {
            "time_zone": self.time_zone if self.time_zone != "UTC" else None,
            "from": self.date_from,
            "to": self.date_to,
            "user_id": self.user_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "operation": self.operation,
        }
        return {name: str(value) for name, value in params.items() if value is not None}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HistoryFilter:
        """From query-string-like values (the admin's filter form, a job's arguments);
        raises :class:`~opiekun.errors.Invalid` naming the bad parameter."""
        problems: dict[str, Message] = {}
        values: dict[str, Any] = {}
        _read_days(params, values, problems)
        _read_ids(params, values, problems)
        for name in ("object_type", "operation"):
            text = str(params.get(name) or "").strip()
            if text:
                values[name] = text
        if is_time_zone(params.get("time_zone")):
            values["time_zone"] = params["time_zone"]
        if problems:
            raise Invalid(Message("some filters are not valid"), problems)
        return cls(**values)


def _read_days(params: Mapping[str, Any], values: dict[str, Any], problems: dict[str, Message]) -> None:
    """``from`` and ``to`` (dates, or ``YYYY-MM-DD`` texts) into ``date_from``/``date_to``."""
    for name, attribute in (("from", "date_from"), ("to", "date_to")):
        text = (params.get(name) or "").strip() if isinstance(params.get(name) or "", str) else params.get(name)
        if text:
            try:
                values[attribute] = text if isinstance(text, dt.date) else dt.date.fromisoformat(text)
            except ValueError:
                problems[name] = Message("not a date: use YYYY-MM-DD")


def _read_ids(params: Mapping[str, Any], values: dict[str, Any], problems: dict[str, Message]) -> None:
    """``user_id`` and ``object_id``: positive whole numbers a row id can be."""
    for name in ("user_id", "object_id"):
        text = str(params.get(name) or "").strip()
        if text:
            if not text.isdigit() or not is_possible_id(int(text)):
                problems[name] = Message("must be a positive whole number")
            else:
                values[name] = int(text)


def known_object_types() -> list[str]:
    """The record types of this app, then types that only the history still knows (a
    removed plugin's)."""
    registered = record_types().names()
    recorded = db.session.scalars(select(AuditEntry.object_type).distinct()).all()
    return [*registered, *sorted(set(recorded) - set(registered))]


def known_operations() -> list[str]:
    """The operations of every record type, then the events the history holds."""
    recorded = db.session.scalars(select(AuditEntry.operation).distinct()).all()
    return [*BASE_OPERATIONS, *sorted(set(recorded) - set(BASE_OPERATIONS))]


def check_filter(history_filter: HistoryFilter) -> None:
    """Refuse filters that cannot match anything because they name nothing that exists."""
    problems = {}
    if history_filter.date_from and history_filter.date_to and history_filter.date_from > history_filter.date_to:
        problems["to"] = Message("must not be before 'from'")
    if history_filter.user_id is not None and db.session.get(User, history_filter.user_id) is None:
        problems["user_id"] = Message("no user with id %(id)s", id=history_filter.user_id)
    if history_filter.object_type is not None and history_filter.object_type not in known_object_types():
        problems["object_type"] = Message("unknown record type %(type)r", type=history_filter.object_type)
    if history_filter.object_id is not None and history_filter.object_type is None:
        problems["object_id"] = Message("give object_type too")
    if problems:
        raise Invalid(Message("some filters are not valid"), problems)


def filtered_entries(history_filter: HistoryFilter, columns=None):
    """The SELECT of the entries matching the filter, newest first (an operation matches
    its kinds too: :func:`~opiekun.plugins.audit.entries.operations_named`)."""
    statement = select(*(columns or [ENTRIES])).select_from(ENTRIES)
    conditions = []
    zone = history_filter.time_zone
    if history_filter.date_from:
        conditions.append(ENTRIES.c.at >= days_as_utc(history_filter.date_from, history_filter.date_from, zone)[0])
    if history_filter.date_to:
        conditions.append(ENTRIES.c.at < days_as_utc(history_filter.date_to, history_filter.date_to, zone)[1])
    for name in ("user_id", "object_type", "object_id"):
        value = getattr(history_filter, name)
        if value is not None:
            conditions.append(ENTRIES.c[name] == value)
    if history_filter.operation is not None:  # ``update`` finds owner changes too
        conditions.append(ENTRIES.c.operation.in_(operations_named(history_filter.operation)))
    if conditions:
        statement = statement.where(and_(*conditions))
    return statement.order_by(ENTRIES.c.id.desc())


@dataclass(frozen=True)
class HistoryGap:
    """A time the history was not recorded (the plugin was off): changes of that time
    have no entries, and nothing can bring them back."""

    off_from: dt.datetime
    off_until: dt.datetime


def history_gaps(history_filter: HistoryFilter, since: dt.datetime | None = None) -> list[HistoryGap]:
    """The times the history was off that overlap the filter's days (and end after
    ``since``: a record's creation), oldest first."""
    zone = history_filter.time_zone
    start = (
        days_as_utc(history_filter.date_from, history_filter.date_from, zone)[0] if history_filter.date_from else None
    )
    end = days_as_utc(history_filter.date_to, history_filter.date_to, zone)[1] if history_filter.date_to else None
    if since is not None and (start is None or since > start):
        start = since
    return [
        HistoryGap(gap.off_from, gap.off_until)
        for gap in gaps_of("audit")
        if (start is None or gap.off_until > start) and (end is None or gap.off_from < end)
    ]


def count_entries(history_filter: HistoryFilter) -> int:
    """How many entries match the filter."""
    return count_rows(filtered_entries(history_filter))


def more_entries_than(history_filter: HistoryFilter, limit: int) -> bool:
    """Whether more than ``limit`` entries match the filter (counting stops at ``limit`` + 1)."""
    return count_up_to(filtered_entries(history_filter), limit) > limit


def page_of_entries(history_filter: HistoryFilter, page: int, per_page: int) -> tuple[list[Mapping[str, Any]], Total]:
    """One page (1-based) of the entries matching the filter, and how many match in all
    (:func:`opiekun.pagination.page_of`: an estimate beyond the exact-count limit); refuses
    a filter naming nothing that exists (:func:`check_filter`). Read from the replica when
    there is one."""
    check_filter(history_filter)
    with replica_reads():
        rows, total = page_of(filtered_entries(history_filter), page, per_page)
    return [dict(row._mapping) for row in rows], total


def users_for_filter() -> list[tuple[int, str]]:
    """Every user who ever appears in the history or exists, departed ones marked."""
    rows = db.session.execute(select(User.id, User.name, User.status).order_by(User.name)).all()
    return [(user_id, f"{name} (departed)" if status == "departed" else name) for user_id, name, status in rows]
