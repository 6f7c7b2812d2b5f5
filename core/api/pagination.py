"""Pages of list answers: ``{"items", "total", "page", "per_page", "total_is_estimate"}``
from one SELECT (:func:`paginate`), from rows fetched elsewhere (:func:`page_answer`), or
from a short list built in memory (:func:`page_of_list`)."""

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import Select

from opiekun.api.schemas import PageQuery
from opiekun.pagination import page_of


def paginate(
    statement: Select, query: PageQuery, item_model: type[BaseModel], page_model: type[BaseModel]
) -> BaseModel:
    """The page ``query.page`` of ``statement`` (already ordered) as ``page_model``, each row
    as ``item_model``, with the total (:func:`opiekun.pagination.page_of`)."""
    rows, total = page_of(statement, query.page, query.per_page)
    return page_answer(page_model, [item_model.model_validate(row) for row in rows], total, query)


def page_answer(page_model: type[BaseModel], items: Sequence, total: int, query: PageQuery, **extra) -> BaseModel:
    """``page_model`` holding ``items``, the page ``query`` asked for, of ``total`` items in
    all (a :class:`opiekun.pagination.Total` says whether it is an estimate)."""
    return page_model(
        items=list(items),
        total=total,
        page=query.page,
        per_page=query.per_page,
        total_is_estimate=getattr(total, "is_estimate", False),
        **extra,
    )


def page_of_list(items: Sequence[BaseModel], query: PageQuery, page_model: type[BaseModel], **extra) -> BaseModel:
    """The page ``query.page`` of a short list built in memory (permissions, roles,
    plugins…), in the same shape as every list: ``{items, total, page, per_page}``."""
    start = (query.page - 1) * query.per_page
    return page_answer(page_model, items[start : start + query.per_page], len(items), query, **extra)


__all__ = ["page_answer", "page_of_list", "paginate"]
