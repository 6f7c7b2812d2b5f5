"""Pages of list answers: ``{"items", "total", "page", "per_page"}`` from one SELECT."""

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import Select

from opiekun.api.schemas import PageQuery
from opiekun.pagination import page_of


def paginate(
    statement: Select, query: PageQuery, item_model: type[BaseModel], page_model: type[BaseModel]
) -> BaseModel:
    """The page ``query.page`` of ``statement`` (already ordered) as ``page_model``, each row
    as ``item_model``, with the total count (:func:`opiekun.pagination.page_of`)."""
    rows, total = page_of(statement, query.page, query.per_page)
    return page_model(
        items=[item_model.model_validate(row) for row in rows], total=total, page=query.page, per_page=query.per_page
    )


def page_of_list(items: Sequence[BaseModel], query: PageQuery, page_model: type[BaseModel], **extra) -> BaseModel:
    """The page ``query.page`` of a short list built in memory (permissions, roles,
    plugins…), in the same shape as every list: ``{items, total, page, per_page}``."""
    start = (query.page - 1) * query.per_page
    return page_model(
        items=list(items[start : start + query.per_page]),
        total=len(items),
        page=query.page,
        per_page=query.per_page,
        **extra,
    )


__all__ = ["page_of_list", "paginate"]
