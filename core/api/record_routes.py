"""Generic JSON CRUD for every record type that brings schemas (built-in or a partner's).

For a type with ``api_path = "companies"`` this adds ``GET/POST /companies`` and
``GET/PATCH/DELETE /companies/<id>``, validated and documented from the type's schemas.
"""
from flask import Blueprint
from pydantic import create_model
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from opiekun import records
from opiekun.api.pagination import paginate
from opiekun.api.schemas import MAX_ID, Page, RecordListQuery
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.errors import Invalid, Message, NotFound
from opiekun.extensions import db
from opiekun.models import User
from opiekun.record_types import RecordType

LIST_PARAMETERS = frozenset(RecordListQuery.model_fields)


def get_record_or_404(record_type: RecordType, record_id: int, *, for_change: bool = False):
    """The record, or 404; ``for_change`` loads it locked (:func:`opiekun.records.load_for_change`)."""
    record = None
    if 0 < record_id <= MAX_ID:
        if for_change:
            record = records.load_for_change(record_type.model, record_id)
        else:
            record = db.session.get(record_type.model, record_id)
    if record is None:
        raise NotFound(Message("no %(type)s with id %(id)s", type=record_type.name, id=record_id))
    return record


def filtered_records(record_type: RecordType, query) -> "select":
    """The SELECT behind a record list: owner filters, search and the type's own filters."""
    model = record_type.model
    statement = select(model)
    if query.owner_id == "none":
        statement = statement.where(model.owner_id.is_(None))
    elif query.owner_id is not None:
        statement = statement.where(model.owner_id == int(query.owner_id))
    if query.owner_status is not None:
        owner = aliased(User)
        statement = statement.join(owner, model.owner_id == owner.id).where(owner.status == query.owner_status)
    if query.q:
        columns = [getattr(model, name) for name in record_type.search_columns]
        statement = statement.where(or_(*(column.icontains(query.q, autoescape=True) for column in columns)))
    for field, value in query.model_dump(exclude_none=True).items():
        if field not in LIST_PARAMETERS:
            statement = statement.where(getattr(model, field) == value)
    return statement


def sorted_records(record_type: RecordType, statement, sort: str | None):
    model = record_type.model
    if not sort:
        return statement.order_by(model.id.desc())
    name = sort.lstrip("-")
    if name not in model.__table__.c:
        raise Invalid(Message("cannot sort by that"), {"sort": Message("%(type)s has no field %(field)r", type=record_type.name, field=name)})
    column = model.__table__.c[name]
    return statement.order_by(column.desc() if sort.startswith("-") else column.asc(), model.id.desc())


def add_record_routes(blueprint: Blueprint, record_type: RecordType) -> None:
    """Add the five CRUD routes of ``record_type`` to ``blueprint``."""
    api = record_type.api
    name = record_type.name
    title = "".join(part.capitalize() for part in name.split("_"))
    bases = (RecordListQuery, api.filters) if api.filters else (RecordListQuery,)
    list_query = create_model(f"{title}ListQuery", __base__=bases)
    page_model = create_model(f"{title}Page", __base__=Page[api.read])
    tags = [record_type.label_plural]

    @validate(query=list_query, answers={200: page_model}, tags=tags, operation_id=f"list_{name}")
    def list_records():
        query = request_query()
        statement = sorted_records(record_type, filtered_records(record_type, query), query.sort)
        return paginate(statement, query, api.read, page_model)

    @validate(json=api.create, answers={201: api.read}, tags=tags, operation_id=f"create_{name}")
    def create_record():
        body = request_body()
        record = records.save_record(record_type, record_type.model(), body.model_dump(exclude_unset=True), "create", current_api_user())
        db.session.commit()
        return api.read.model_validate(record), 201

    @validate(answers={200: api.read}, tags=tags, operation_id=f"get_{name}")
    def get_record(record_id: int):
        return api.read.model_validate(get_record_or_404(record_type, record_id))

    @validate(json=api.update, answers={200: api.read}, tags=tags, operation_id=f"update_{name}")
    def update_record(record_id: int):
        record = get_record_or_404(record_type, record_id, for_change=True)
        records.require_change_right(current_api_user(), record_type, record, "update")
        records.save_record(record_type, record, request_body().model_dump(exclude_unset=True), "update", current_api_user())
        db.session.commit()
        return api.read.model_validate(record)

    @validate(answers={204: None}, tags=tags, operation_id=f"delete_{name}")
    def delete_record(record_id: int):
        record = get_record_or_404(record_type, record_id, for_change=True)
        records.require_change_right(current_api_user(), record_type, record, "delete")
        records.delete_record(record_type, record)
        db.session.commit()
        return "", 204

    path = f"/{record_type.api_path}"
    blueprint.add_url_rule(path, f"{name}_list", list_records, methods=["GET"])
    blueprint.add_url_rule(path, f"{name}_create", create_record, methods=["POST"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_get", get_record, methods=["GET"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_update", update_record, methods=["PATCH"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_delete", delete_record, methods=["DELETE"])
