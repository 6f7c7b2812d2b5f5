"""One page of a query's results, with the total: the same paging for the API's lists, the
admin's pages and every plugin's service.

    rows, total = page_of(select(Contract).order_by(Contract.id), page=2, per_page=50)

Totals are exact up to :func:`exact_count_limit` rows (``OPIEKUN_EXACT_COUNT_LIMIT``,
default 10,000). Beyond it, PostgreSQL answers with its planner's estimate, marked
:attr:`Total.is_estimate`, so a list page never counts a million rows to draw its pager;
when the planner expects ten times the limit or more, nothing is counted at all. SQLite
has no estimate and keeps counting exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, Select, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlalchemy.sql.visitors import InternalTraversal

from opiekun.extensions import db


class Total(int):
    """How many rows a list holds: exact, or, when :attr:`is_estimate`, the database's
    estimate of a count above :func:`exact_count_limit` (never below the limit + 1)."""

    is_estimate: bool

    def __new__(cls, value: int, is_estimate: bool = False) -> Total:
        total = super().__new__(cls, value)
        total.is_estimate = is_estimate
        return total

    def __repr__(self) -> str:
        return f"Total({int(self)}, is_estimate={self.is_estimate})"


class PageOfRows(NamedTuple):
    """The rows of one page and how many rows all pages hold together."""

    rows: list[Any]
    total: Total


def fetch(statement: Select[Any]) -> list[Any]:
    """The results of ``statement``: ORM objects when it selects one mapped class
    (``select(Company)``), otherwise rows, whose values are read by their labels."""
    described = statement.column_descriptions
    selects_objects = (
        len(described) == 1 and described[0]["entity"] is not None and described[0]["expr"] is described[0]["entity"]
    )
    result = db.session.execute(statement)
    return list(result.scalars().all() if selects_objects else result.all())


def count_rows(statement: Select[Any]) -> int:
    """How many rows ``statement`` selects (its order left out), counted exactly."""
    return db.session.scalar(select(func.count()).select_from(_as_counted(statement).subquery())) or 0


def count_up_to(statement: Select[Any], limit: int) -> int:
    """How many rows ``statement`` selects, counting no further than ``limit`` + 1: enough
    to tell whether more than ``limit`` match, without reading every row."""
    return count_rows(statement.limit(limit + 1))


def _as_counted(statement: Select[Any]) -> Select[Any]:
    """``statement`` as its rows are counted: without its order and, unless it is DISTINCT
    or grouped (its columns then decide what a row is), selecting a constant. SQLite reads
    every column a subquery it cannot flatten selects (one with a ``LIMIT``: the capped
    count), so counting 10,001 records read the table instead of the index: 11 times slower."""
    statement = statement.order_by(None)
    if statement._distinct or statement._group_by_clauses:  # noqa: SLF001 - no public accessor
        return statement
    return statement.with_only_columns(literal_column("1"), maintain_column_froms=True)


def exact_count_limit() -> int:
    """Lists holding up to this many rows have an exact total (``OPIEKUN_EXACT_COUNT_LIMIT``)."""
    return int(current_app.config["EXACT_COUNT_LIMIT"])


#: When the database expects more than this many times :func:`exact_count_limit` rows, its
#: estimate is taken as it is, without counting. Counting limit + 1 rows of a filter that
#: matches a tenth of a million (a frequent word in ``q=``) reads every match's index entry
#: and ten thousand rows; the estimate reads none. An estimate from the table's statistics
#: is ten times too high only when they are stale.
UNCOUNTED_ESTIMATE_FACTOR = 10


def total_of(statement: Select[Any]) -> Total:
    """How many rows ``statement`` selects: exact when at most :func:`exact_count_limit`
    (the count stops after limit + 1 rows); above it, PostgreSQL's planner estimate (at
    least limit + 1) marked as an estimate, and on SQLite the exact count. When the planner
    expects more than :data:`UNCOUNTED_ESTIMATE_FACTOR` times the limit, nothing is counted."""
    limit = exact_count_limit()
    estimate = planner_estimate(statement)
    if estimate is not None and estimate > limit * UNCOUNTED_ESTIMATE_FACTOR:
        return Total(estimate, is_estimate=True)
    counted = count_up_to(statement, limit)
    if counted <= limit:
        return Total(counted)
    if estimate is None:
        return Total(count_rows(statement))
    return Total(max(estimate, limit + 1), is_estimate=True)


def planner_estimate(statement: Select[Any]) -> int | None:
    """How many rows the database expects ``statement`` to select, without running it
    (PostgreSQL's ``EXPLAIN``); ``None`` where the database gives no estimate."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    plan = db.session.scalar(_Explain(statement.order_by(None)))
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, with the statement's parameters bound as usual.
    Its SQL is cached as the statement's own is: a long condition (a task viewer's sharing
    grants) is compiled once, not at every page."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]
    _all_selected_columns = ()  # one unnamed column, the plan, read by position

    def __init__(self, statement: Select[Any]):
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def page_of(
    statement: Select[Any], page: int, per_page: int, *, read_along: Sequence[ColumnElement[Any]] = ()
) -> PageOfRows:
    """Page ``page`` (from 1) of ``statement`` (already ordered), ``per_page`` rows a page
    (:func:`fetch` says what a row is), with the total (:func:`total_of`). A first page
    shorter than ``per_page`` is the whole result: no COUNT query then.

    ``read_along``: labelled columns (a correlated subquery each, usually) read with the
    page's rows and not with the total; the rows are then ``(object, value, …)``."""
    shown = statement.add_columns(*read_along) if read_along else statement
    rows = fetch(shown.limit(per_page).offset((page - 1) * per_page))
    total = Total(len(rows)) if page == 1 and len(rows) < per_page else total_of(statement)
    return PageOfRows(rows, total)


__all__ = [
    "PageOfRows",
    "Total",
    "count_rows",
    "count_up_to",
    "exact_count_limit",
    "fetch",
    "page_of",
    "planner_estimate",
    "total_of",
]
