"""What a list of records selects: the owner filters, the search and the type's own
filters every record list has, its order, and one record by id. The API's lists, the
plugins' services (ownership's "records matching a filter") and jobs build their SELECTs
here, so that a filter means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import BigInteger, ColumnElement, Select, String, cast, literal, select
from sqlalchemy.orm import aliased

from opiekun.errors import Invalid, Message
from opiekun.labels import record_type_label
from opiekun.lookups import get_by_id
from opiekun.models import User
from opiekun.record_registry import RecordField, RecordType, record_types
from opiekun.search import text_condition


class RecordListFilter(Protocol):
    """The filters of a record list (the API's ``RecordListQuery`` is one)."""

    #: A user id (as text), ``"none"`` for records without an owner, or ``None``: any owner.
    owner_id: str | None
    #: ``active`` or ``departed``: only records whose owner has that status.
    owner_status: str | None
    #: Text searched in the type's ``search_columns``.
    q: str | None

    def field_filters(self) -> Mapping[str, Any]:
        """The type's own filters that are set: ``{field: value}``, each meaning ``field == value``
        (``<field>_min``/``_max`` bound a field a plugin adds)."""
        ...


def filtered_records(record_type: RecordType, list_filter: RecordListFilter) -> Select[Any]:
    """The SELECT behind a record list: owner filters, search and the type's own filters."""
    model: Any = record_type.model
    statement = select(model)
    if list_filter.owner_id == "none":
        statement = statement.where(model.owner_id.is_(None))
    elif list_filter.owner_id is not None:
        statement = statement.where(model.owner_id == int(list_filter.owner_id))
    if list_filter.owner_status is not None:
        owner = aliased(User)
        statement = statement.join(owner, model.owner_id == owner.id).where(owner.status == list_filter.owner_status)
    if list_filter.q:
        statement = statement.where(search_condition(record_type, list_filter.q))
    added = {field.name: field for field in record_types().fields_of(record_type) if field.filterable}
    for field, value in list_filter.field_filters().items():
        statement = statement.where(field_condition(model, added, field, value))
    return statement


def field_condition(model: Any, added: Mapping[str, RecordField], name: str, value: Any) -> ColumnElement[bool]:
    """``name == value`` for a column of the model or a field a plugin adds (``added``);
    ``<field>_min`` / ``<field>_max`` bound an added field."""
    field, bound = added.get(name), None
    if field is None and name.endswith(("_min", "_max")):
        field, bound = added.get(name[:-4]), name[-3:]
    if name in model.__table__.c or field is None or field.expression is None:
        return getattr(model, name) == value
    expression = field.expression()
    if field.type is int:  # compared as a BIGINT: an INTEGER column would reject a larger value with an error
        value = literal(value, BigInteger())
    if bound == "min":
        return expression >= value
    return expression <= value if bound == "max" else expression == value


def search_condition(record_type: RecordType, text: str) -> ColumnElement[bool]:
    """``?q=`` and the panel's search: ``text`` anywhere in one of the type's search
    columns, case and accents aside (:mod:`opiekun.search`); a type with no text columns to
    search is searched by its id."""
    model: Any = record_type.model
    if not record_type.search_columns:
        return cast(model.id, String) == text.strip()
    return text_condition([getattr(model, name) for name in record_type.search_columns], text)


def sorted_records(record_type: RecordType, statement: Select[Any], sort: str | None) -> Select[Any]:
    """``statement`` ordered by ``sort`` (a field, ``-field`` for descending; default:
    newest first), ties broken by newest first. An unknown field is :class:`Invalid`."""
    model: Any = record_type.model
    if not sort:
        return statement.order_by(model.id.desc())
    name = sort.lstrip("-")
    if name not in model.__table__.c:
        raise Invalid(
            Message("cannot sort by that"),
            {"sort": Message("%(type)s has no field %(field)r", type=record_type_label(record_type.name), field=name)},
        )
    column = model.__table__.c[name]
    return statement.order_by(column.desc() if sort.startswith("-") else column.asc(), model.id.desc())


def get_record(record_type: RecordType, record_id: int, *, for_change: bool = False) -> Any:
    """The record ``record_id`` of ``record_type``; :class:`~opiekun.errors.NotFound` when
    there is none. ``for_change`` reads it locked (:func:`opiekun.lookups.load_for_change`)."""
    return get_by_id(
        record_type.model,
        record_id,
        Message("no %(type)s with id %(id)s", type=record_type_label(record_type.name), id=record_id),
        for_change=for_change,
    )
