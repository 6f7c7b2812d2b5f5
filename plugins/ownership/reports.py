"""Reading ownership: the periods by filter, who owned a record on a day, a record's whole
history, and a user's portfolio ("records by owner": what they looked after in a period)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Date, Integer, Row, String, bindparam, case, func, null, select, true

from opiekun.plugin import (
    Invalid,
    NotFound,
    RecordType,
    RecordTypeRegistry,
    User,
    db,
    find_by_id,
    get_record,
    record_types,
    replica_reads,
)
from opiekun.plugins.ownership.lookups import record_type_named
from opiekun.plugins.ownership.models import OwnerAssignment
from opiekun.plugins.ownership.periods import assignments_table, check_period, in_force, overlapping


def list_assignments(
    object_type: str | None = None,
    object_id: int | None = None,
    user_id: int | None = None,
    at: dt.date | None = None,
    kind: str | None = None,
):
    """SELECT of the periods matching the filters given (``at``: in force that day), in
    record order, each record's oldest first."""
    statement = select(OwnerAssignment)
    if object_type is not None:
        record_type_named(object_type)
        statement = statement.where(OwnerAssignment.object_type == object_type)
    if object_id is not None:
        statement = statement.where(OwnerAssignment.object_id == object_id)
    if user_id is not None:
        statement = statement.where(OwnerAssignment.user_id == user_id)
    if kind is not None:
        statement = statement.where(OwnerAssignment.kind == kind)
    if at is not None:
        statement = statement.where(in_force(at))
    return statement.order_by(
        OwnerAssignment.object_type, OwnerAssignment.object_id, OwnerAssignment.valid_from, OwnerAssignment.id
    )


@dataclass(frozen=True)
class OwnersOnDay:
    """The periods in force on a day of one record: its primary owner's (if any) and its deputies'."""

    primary: OwnerAssignment | None
    deputies: list[OwnerAssignment]


def owners_on(record_type: RecordType, object_id: int, day: dt.date) -> OwnersOnDay:
    """Who owned the record on ``day``: its primary owner and its deputies."""
    rows = db.session.scalars(
        select(OwnerAssignment)
        .where(OwnerAssignment.object_type == record_type.name, OwnerAssignment.object_id == object_id, in_force(day))
        .order_by(OwnerAssignment.kind.desc(), OwnerAssignment.valid_from)
    ).all()
    # periods go with their record, so only an answer without any needs the second look
    if not rows:
        get_record(record_type, object_id)  # NotFound when there is no such record
    primary = next((row for row in rows if row.kind == "primary"), None)
    return OwnersOnDay(primary, [row for row in rows if row.kind == "deputy"])


def history(record_type: RecordType, object_id: int) -> list[OwnerAssignment]:
    """Every period of the record, oldest first (the admin's "Owners" section)."""
    return list(
        db.session.scalars(
            select(OwnerAssignment)
            .where(OwnerAssignment.object_type == record_type.name, OwnerAssignment.object_id == object_id)
            .order_by(OwnerAssignment.valid_from, OwnerAssignment.kind.desc(), OwnerAssignment.id)
        )
    )


@dataclass(frozen=True)
class Portfolio:
    """One page of a user's portfolio. ``items`` are rows with every column of an
    assignment plus ``object_name`` (``None`` for a record type no longer registered)."""

    user: User
    total: int
    items: list[Row]


def portfolio(
    user_id: int,
    first_day: dt.date,
    last_day: dt.date,
    kind: str | None = None,
    object_type: str | None = None,
    *,
    page: int = 1,
    per_page: int = 50,
) -> Portfolio:
    """A user's periods that meet ``first_day … last_day`` ("records by owner"), newest
    first: the page ``page`` with the names of their records, and how many there are.

    One round trip: the user, the count, the page and the names come from one statement
    (hence its own LIMIT/OFFSET: :func:`opiekun.pagination.page_of` and a user lookup would
    take three). Read from the replica when there is one."""
    _check_portfolio_arguments(user_id, first_day, last_day, object_type)
    statement = _portfolio_statement(record_types(), kind is not None, object_type is not None)
    with replica_reads():
        rows = db.session.execute(
            statement,
            {
                "user_id": user_id,
                "first_day": first_day,
                "last_day": last_day,
                "kind": kind,
                "object_type": object_type,
                "limit": per_page,
                "offset": (page - 1) * per_page,
            },
        ).all()
    if not rows:
        raise _unknown_user(user_id)
    return Portfolio(user=rows[0].User, total=rows[0].total, items=[row for row in rows if row.id is not None])


def _unknown_user(user_id: int) -> NotFound:
    """The 404 of a portfolio of nobody."""
    return NotFound(f"no user with id {user_id}", {"user_id": "unknown user"})


def _check_portfolio_arguments(user_id: int, first_day: dt.date, last_day: dt.date, object_type: str | None) -> None:
    """A reversed period or an unknown type is a 422, unless the user is unknown (404 first)."""
    try:
        check_period(first_day, last_day)
        if object_type is not None:
            record_type_named(object_type)
    except Invalid:
        if find_by_id(User, user_id) is None:
            raise _unknown_user(user_id) from None
        raise


@functools.lru_cache(maxsize=32)
def _portfolio_statement(registry: RecordTypeRegistry, by_kind: bool, by_type: bool):
    """The statement of :func:`portfolio`, with bound parameters (``user_id``, ``first_day``,
    ``last_day``, ``kind``, ``object_type``, ``limit``, ``offset``); built once per app and
    filter set, because building it and computing its cache key take longer than running it.

    ``users`` LEFT JOIN the page: the user's row comes back even when the page is empty,
    and no row at all means there is no such user. The count is a scalar subquery (an
    index-only scan on ``ix_ownership_assignments_user``); the page walks that index
    backwards and stops after ``offset + limit`` rows."""
    user_id = bindparam("user_id", type_=Integer)
    matching = [
        assignments_table.c.user_id == user_id,
        overlapping(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date)),
    ]
    if by_kind:
        matching.append(assignments_table.c.kind == bindparam("kind", type_=String))
    if by_type:
        matching.append(assignments_table.c.object_type == bindparam("object_type", type_=String))
    page = (
        select(assignments_table)
        .where(*matching)
        .order_by(assignments_table.c.valid_from.desc(), assignments_table.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    total = select(func.count()).select_from(assignments_table).where(*matching).scalar_subquery()
    name = record_name_expression(registry, page.c.object_type, page.c.object_id)
    return (
        select(User, total.label("total"), *page.c, name.label("object_name"))
        .outerjoin(page, true())
        .where(User.id == user_id)
        .order_by(page.c.valid_from.desc(), page.c.id.desc())
    )


def record_name_expression(registry: RecordTypeRegistry, object_type, object_id):
    """SQL: the display name of the record ``object_type``/``object_id`` (NULL for a type
    not in ``registry``). A CASE runs only its matching branch: one primary-key lookup."""
    lookups = [
        (
            object_type == record_type.name,
            select(record_type.model.display_name_expression())
            .where(record_type.model.id == object_id)
            .scalar_subquery(),
        )
        for record_type in registry
    ]
    return case(*lookups, else_=null()) if lookups else null()


def portfolio_totals(user_id: int, first_day: dt.date, last_day: dt.date, kind: str | None = None) -> dict[str, int]:
    """How many of a user's periods meeting ``first_day … last_day`` there are per record
    type (the portfolio's totals; an index-only scan of the user's periods)."""
    _check_portfolio_arguments(user_id, first_day, last_day, None)
    statement = (
        select(assignments_table.c.object_type, func.count().label("count"))
        .where(assignments_table.c.user_id == user_id, overlapping(first_day, last_day))
        .group_by(assignments_table.c.object_type)
    )
    if kind is not None:
        statement = statement.where(assignments_table.c.kind == kind)
    return {row.object_type: row.count for row in db.session.execute(statement)}


def whole_portfolio(
    user_id: int, first_day: dt.date, last_day: dt.date, kind: str | None = None, object_type: str | None = None
) -> Iterator[Row]:
    """Every row of the portfolio, page after page (for an export)."""
    page = 1
    while True:
        result = portfolio(user_id, first_day, last_day, kind, object_type, page=page, per_page=EXPORT_PAGE)
        yield from result.items
        if page * EXPORT_PAGE >= result.total:
            return
        page += 1


#: Rows read at once by :func:`whole_portfolio`.
EXPORT_PAGE = 1000
