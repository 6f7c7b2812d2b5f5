"""Pages of list answers: ``{"items", "total", "page", "per_page"}`` from one SELECT."""
from pydantic import BaseModel
from sqlalchemy import Select, func, select

from opiekun.api.schemas import PageQuery
from opiekun.extensions import db


def paginate(statement: Select, query: PageQuery, item_model: type[BaseModel], page_model: type[BaseModel]) -> BaseModel:
    """The page ``query.page`` of ``statement`` (already ordered), with the total count."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(statement.limit(query.per_page).offset((query.page - 1) * query.per_page))
    return page_model(items=[item_model.model_validate(row) for row in rows], total=total, page=query.page, per_page=query.per_page)
