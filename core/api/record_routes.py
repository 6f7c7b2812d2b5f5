"""Generic JSON CRUD for every record type that brings schemas (built-in or a partner's).

For a type with ``api_path = "companies"`` this adds ``GET/POST /companies`` and
``GET/PATCH/DELETE /companies/<id>``, validated and documented from the type's schemas.
"""

from flask import Blueprint
from pydantic import create_model

from opiekun import record_queries, record_rules
from opiekun.api.pagination import paginate
from opiekun.api.schemas import Page, RecordListQuery
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.extensions import db
from opiekun.record_registry import RecordType


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
        statement = record_queries.sorted_records(
            record_type, record_queries.filtered_records(record_type, query), query.sort
        )
        return paginate(statement, query, api.read, page_model)

    @validate(json=api.create, answers={201: api.read}, tags=tags, operation_id=f"create_{name}")
    def create_record():
        body = request_body()
        record = record_rules.save_record(
            record_type, record_type.model(), body.model_dump(exclude_unset=True), "create", current_api_user()
        )
        db.session.commit()
        return api.read.model_validate(record), 201

    @validate(answers={200: api.read}, tags=tags, operation_id=f"get_{name}")
    def get_record(record_id: int):
        return api.read.model_validate(record_queries.get_record(record_type, record_id))

    @validate(json=api.update, answers={200: api.read}, tags=tags, operation_id=f"update_{name}")
    def update_record(record_id: int):
        record = record_queries.get_record(record_type, record_id, for_change=True)
        record_rules.require_change_right(current_api_user(), record_type, record, "update")
        record_rules.save_record(
            record_type, record, request_body().model_dump(exclude_unset=True), "update", current_api_user()
        )
        db.session.commit()
        return api.read.model_validate(record)

    @validate(answers={204: None}, tags=tags, operation_id=f"delete_{name}")
    def delete_record(record_id: int):
        record = record_queries.get_record(record_type, record_id, for_change=True)
        record_rules.require_change_right(current_api_user(), record_type, record, "delete")
        record_rules.delete_record(record_type, record)
        db.session.commit()
        return "", 204

    path = f"/{record_type.api_path}"
    blueprint.add_url_rule(path, f"{name}_list", list_records, methods=["GET"])
    blueprint.add_url_rule(path, f"{name}_create", create_record, methods=["POST"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_get", get_record, methods=["GET"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_update", update_record, methods=["PATCH"])
    blueprint.add_url_rule(f"{path}/<int:record_id>", f"{name}_delete", delete_record, methods=["DELETE"])
