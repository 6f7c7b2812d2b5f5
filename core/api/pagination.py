"""Pages of list answers: ``{"items", "total", "page", "per_page"}`` from one SELECT."""
from pydantic import BaseModel
from sqlalchemy import Select, func, select

from opiekun.api.schemas import PageQuery
from opiekun.extensions import db


def paginate(statement: Select, query: PageQuery, item_model: type[BaseModel], page_model: type[BaseModel]) -> BaseModel:
    """The page ``query.page`` of ``statement`` (already ordered), with the total count.

    A first page shorter than ``per_page`` is the whole result: no COUNT query then."""
    rows = db.session.scalars(statement.limit(query.per_page).offset((query.page - 1) * query.per_page)).all()
    if query.page == 1 and len(rows) < query.per_page:
        total = len(rows)
    else:
        total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return page_model(items=[item_model.model_validate(row) for row in rows], total=total, page=query.page, per_page=query.per_page)
