"""Generic JSON CRUD for every record type that brings schemas (built-in or a partner's).

For a type with ``api_path = "companies"`` this adds ``GET/POST /companies`` and
``GET/PATCH/DELETE /companies/<id>``, validated and documented from the type's schemas.
"""

from typing import Any

from flask import Blueprint
from pydantic import BaseModel, Field, create_model

from opiekun import record_queries, record_rules
from opiekun.api.etags import IF_MATCH_NOTE, require_unchanged_since_read, tagged
from opiekun.api.pagination import page_answer
from opiekun.api.schemas import Page, record_list_query, with_added_fields
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.extensions import db
from opiekun.pagination import page_of
from opiekun.record_registry import RecordField, RecordType, added_values


def answer_model(title: str, read: type[BaseModel], added: list[RecordField]) -> type[BaseModel]:
    """The type's answer: its read schema, plus the fields plugins add to it."""
    if not added:
        return read
    extra: dict[str, Any] = {
        field.name: (field.type | None, Field(None, description=field.description or None)) for field in added
    }
    return create_model(f"{title}Out", __base__=read, **extra)


def add_record_routes(blueprint: Blueprint, record_type: RecordType, added: list[RecordField] = ()) -> None:
    """Add the five CRUD routes of ``record_type`` to ``blueprint``; answers carry the
    fields plugins add to the type (``added``), computed once per page; the list filters
    by those with an ``expression``, the bodies take those a plugin stores."""
    api = record_type.api
    name = record_type.name
    title = "".join(part.capitalize() for part in name.split("_"))
    list_query = record_list_query(title, record_type, added)
    create_body = with_added_fields(f"{title}Create", api.create, added)
    update_body = with_added_fields(f"{title}Update", api.update, added)
    read = answer_model(title, api.read, list(added))
    page_model = create_model(f"{title}Page", __base__=Page[read])
    tags = [record_type.label_plural]

    computed = [field for field in added if field.values is None]  # in SQL: read along with a page's rows
    looked_up = [field for field in added if field.values is not None]

    def with_added(items: list[BaseModel], fields: list[RecordField]) -> list[BaseModel]:
        if not fields:
            return items
        values = added_values(record_type.model, fields, [item.id for item in items])
        return [item.model_copy(update=values[item.id]) for item in items]

    def one(record) -> BaseModel:
        return with_added([read.model_validate(record)], list(added))[0]

    def answers(rows: list) -> list[BaseModel]:
        """A page's answers: the records, with the values of the added fields (those
        computed in SQL came with each row: one query less per page)."""
        if not computed:
            return with_added([read.model_validate(record) for record in rows], looked_up)
        items = []
        for record, *values in rows:
            item = read.model_validate(record)
            for field, value in zip(computed, values, strict=True):
                setattr(item, field.name, value)  # a new answer, shared with no one
            items.append(item)
        return with_added(items, looked_up)

    def list_records():
        query = request_query()
        statement = record_queries.sorted_records(
            record_type, record_queries.filtered_records(record_type, query), query.sort
        )
        along = [field.expression().label(field.name) for field in computed]  # type: ignore[misc]
        rows, total = page_of(statement, query.page, query.per_page, read_along=along)
        return page_answer(page_model, answers(rows), total, query)

    def create_record():
        body = request_body()
        record = record_rules.save_record(
            record_type, record_type.model(), body.model_dump(exclude_unset=True), "create", current_api_user()
        )
        db.session.commit()
        return tagged(one(record), 201)

    def get_record(record_id: int):
        return tagged(one(record_queries.get_record(record_type, record_id)))

    def update_record(record_id: int):
        record = record_queries.get_record(record_type, record_id, for_change=True)
        record_rules.require_change_right(current_api_user(), record_type, record, "update")
        require_unchanged_since_read(lambda: one(record))
        record_rules.save_record(
            record_type, record, request_body().model_dump(exclude_unset=True), "update", current_api_user()
        )
        db.session.commit()
        return tagged(one(record))

    def delete_record(record_id: int):
        record = record_queries.get_record(record_type, record_id, for_change=True)
        record_rules.require_change_right(current_api_user(), record_type, record, "delete")
        require_unchanged_since_read(lambda: one(record))
        record_rules.delete_record(record_type, record)
        db.session.commit()
        return "", 204

    def route(view, method: str, path: str, operation_id: str, summary: str, description: str, **declared) -> None:
        """Validate and document ``view`` (its summary and description are spectree's
        summary and description of the operation) and serve it at ``method path``."""
        view.__doc__ = f"{summary}\n\n{description}"
        action = operation_id.split("_", 1)[0]
        validated = validate(tags=tags, operation_id=operation_id, **declared)(view)
        blueprint.add_url_rule(path, f"{name}_{action}", validated, methods=[method])

    collection, item = f"/{record_type.api_path}", f"/{record_type.api_path}/<int:record_id>"
    plural, singular = record_type.label_plural.lower(), record_type.label.lower()
    route(
        list_records,
        "GET",
        collection,
        f"list_{record_type.api_path.replace('-', '_')}",
        f"List {plural}",
        f"The {plural} the caller may see: filtered, sorted and paged.",
        query=list_query,
        answers={200: page_model},
    )
    route(
        create_record,
        "POST",
        collection,
        f"create_{name}",
        f"Create a {singular}",
        f"The new {singular} belongs to the caller unless `owner_id` says otherwise.",
        json=create_body,
        answers={201: read},
    )
    route(
        get_record,
        "GET",
        item,
        f"get_{name}",
        f"Get a {singular}",
        "Its `ETag` header is what `If-Match` sends back to change it safely.",
        answers={200: read},
    )
    route(
        update_record,
        "PATCH",
        item,
        f"update_{name}",
        f"Change a {singular}",
        IF_MATCH_NOTE,
        json=update_body,
        answers={200: read},
    )
    route(delete_record, "DELETE", item, f"delete_{name}", f"Delete a {singular}", IF_MATCH_NOTE, answers={204: None})
