"""Pages of list answers: ``{"items", "total", "page", "per_page"}`` from one SELECT."""

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


__all__ = ["paginate"]
