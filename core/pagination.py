"""One page of a query's results, with the total: the same paging for the API's lists, the
admin's pages and every plugin's service.

    rows, total = page_of(select(Contract).order_by(Contract.id), page=2, per_page=50)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Select, func, select

from opiekun.extensions import db


class PageOfRows(NamedTuple):
    """The rows of one page and how many rows all pages hold together."""

    rows: list[Any]
    total: int


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
    """How many rows ``statement`` selects (its order left out)."""
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


def page_of(statement: Select[Any], page: int, per_page: int) -> PageOfRows:
    """Page ``page`` (from 1) of ``statement`` (already ordered), ``per_page`` rows a page
    (:func:`fetch` says what a row is), with the total count. A first page shorter than
    ``per_page`` is the whole result: no COUNT query then."""
    rows = fetch(statement.limit(per_page).offset((page - 1) * per_page))
    total = len(rows) if page == 1 and len(rows) < per_page else count_rows(statement)
    return PageOfRows(rows, total)


__all__ = ["PageOfRows", "count_rows", "fetch", "page_of"]
