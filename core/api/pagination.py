"""Pages of list answers: ``{"items", "total", "page", "per_page"}`` from one SELECT."""
from pydantic import BaseModel
from sqlalchemy import Select, func, select

from opiekun.api.schemas import PageQuery
from opiekun.extensions import db


def paginate(statement: Select, query: PageQuery, item_model: type[BaseModel], page_model: type[BaseModel]) -> BaseModel:
    """The page ``query.page`` of ``statement`` (already ordered), with the total count.

    A first page shorter than ``per_page`` is the whole result: no COUNT query then."""
    rows = fetch(statement.limit(query.per_page).offset((query.page - 1) * query.per_page))
    if query.page == 1 and len(rows) < query.per_page:
        total = len(rows)
    else:
        total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return page_model(items=[item_model.model_validate(row) for row in rows], total=total, page=query.page, per_page=query.per_page)


def fetch(statement: Select) -> list:
    """The results of ``statement``: ORM objects when it selects one mapped class
    (``select(Company)``), otherwise rows, whose values are read by their labels."""
    described = statement.column_descriptions
    selects_objects = len(described) == 1 and described[0]["entity"] is not None and described[0]["expr"] is described[0]["entity"]
    result = db.session.execute(statement)
    return result.scalars().all() if selects_objects else result.all()
