"""The registry of record types: the six built-in ones and those plugins add.

A record type is what the API calls ``object_type``. Registering one (hook
``opiekun_record_types``) gives it the owner filters, the change stream, a generic JSON
API when it brings schemas, and a place in offboarding previews and transfers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.sql import ColumnElement


#: the types of added fields filtered by a range as well as by a value
RANGED_TYPES: tuple[type, ...] = (int, float, Decimal, dt.date, dt.datetime)


@dataclass(frozen=True)
class RecordApi:
    """The pydantic schemas from which the core builds a record type's JSON API.

    :param create: body of ``POST``; :param update: body of ``PATCH`` (all fields optional);
    :param read: one record in answers; :param filters: extra list filters, as a pydantic
    model of query parameters named like the fields; :param apply: sets validated values
    on a record when some fields are derived (a deal's ``stage`` name becomes its
    ``stage_id``); default: plain attribute assignment.
    """

    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]
    filters: type[BaseModel] | None = None
    apply: Callable[[Any, dict[str, Any]], None] | None = None


@dataclass(frozen=True)
class RecordField:
    """A field a plugin adds to another plugin's (or the core's) record type — a company's
    score kept in the plugin's own table — declared through ``opiekun_record_fields``.
    It shows in the type's API answers (and their OpenAPI schema) and as a column of its
    admin list and record page; with ``expression`` it filters the type's lists, with
    ``save`` it is a field of the type's form and API bodies. The plugin computes and
    stores it; nothing is stored on the record itself.

    :param name: the field's name in answers and the column's key (must not clash with
        the model's columns).
    :param label: the column's label (a lazy ``gettext``).
    :param values: ``values(ids) -> {id: value}`` for the records of a page, in one query
        (records missing from the answer show ``null``). Leave it out when you give
        ``expression``: the values are then read through it.
    :param type: the value's Python type, for the OpenAPI schema, the filters and the form
        field (``int``, ``str``, ``float``, ``bool``, ``decimal.Decimal``, ``datetime.date``).
    :param description: one sentence for the API's schema.
    :param expression: ``expression() -> SQL expression``: the field's value for one record
        of the type, as a scalar subquery correlated with the type's model (``select(...)
        .where(Score.company_id == Company.id).scalar_subquery()``). With it the field can be
        filtered: the type's API list takes ``?<name>=`` (and ``<name>_min``/``<name>_max``
        for numbers and dates), its admin list offers the same filters. The API list reads
        it with its page's rows (no query of its own), after sorting and paging, so it runs
        for the page's records only.
    :param save: ``save(record, value)`` stores a value given for the field in the record's
        admin form or its API body (``POST``/``PATCH``); called in the record's transaction
        once the record is flushed (it has an id); raise :class:`~opiekun.errors.Invalid`
        to refuse (nothing is saved). Without it the field is read-only.
    """

    name: str
    label: str
    values: Callable[[list[int]], Mapping[int, Any]] | None = None
    type: type = str
    description: str = ""
    expression: Callable[[], ColumnElement[Any]] | None = None
    save: Callable[[Any, Any], None] | None = None

    def __post_init__(self) -> None:
        if self.values is None and self.expression is None:
            raise TypeError(f"RecordField {self.name!r}: give values(ids) or expression()")

    @property
    def filterable(self) -> bool:
        return self.expression is not None

    @property
    def ranged(self) -> bool:
        """Filtered by a range too (``<name>_min``/``<name>_max``): numbers and dates."""
        return self.filterable and self.type in RANGED_TYPES

    def values_of(self, model: Any, ids: list[int]) -> Mapping[int, Any]:
        """``{id: value}`` for the records ``ids`` of ``model``: one query."""
        if self.values is not None:
            return self.values(list(ids))
        from sqlalchemy import select

        from opiekun.extensions import db

        statement = select(model.id, self.expression()).where(model.id.in_(ids))  # type: ignore[misc]
        return dict(db.session.execute(statement).all())


@dataclass(frozen=True)
class RecordType:
    """One kind of CRM record.

    :param name: the ``object_type`` value (``company``, ``deal``, a partner's ``contract``…).
    :param model: the SQLAlchemy class; it must mix in :class:`opiekun.models.RecordMixin`.
    :param label: human label, singular; :param label_plural: plural (used in menus).
    :param api_path: the collection's path under ``/api/v1`` (``companies``); ``None``: no API.
    :param api: schemas for the generic API; ``None`` when the plugin serves its own routes.
    :param closed: returns a SQL condition true for closed records (won/lost deals,
        paid invoices…); ``None`` when the type has no notion of closed.
    :param search_columns: columns searched by ``?q=`` and the admin search box (every
        word, case and accents aside; see :mod:`opiekun.search`); default: ``name`` when
        the model has that column, else every text column it has. Give each a trigram
        index in the type's migration, ``create_search_indexes(op, table, columns)``, so a
        search reads the index on PostgreSQL.
    :param admin_view: the Flask-Admin list/form class for the type (a subclass of
        :class:`opiekun.admin.views.RecordView` with its columns); ``None``: the core's
        default record view. The core instantiates it as ``admin_view(record_type)``.
    :param owner_items: ``True`` (default): the core counts and transfers the type's
        records by ``owner_id`` in the "items of a user" hooks (offboarding). ``False``:
        the plugin that registers the type answers those hooks for it itself (e.g. tasks,
        whose ``owner_id`` is the responsible user and which counts open/done its own way),
        so the type is not counted or moved twice.
    """

    name: str
    model: type[Any]
    label: str
    label_plural: str
    api_path: str | None = None
    api: RecordApi | None = None
    closed: Callable[[], ColumnElement[bool]] | None = None
    search_columns: tuple[str, ...] = ()
    admin_view: type | None = None
    owner_items: bool = True

    def __post_init__(self) -> None:
        if not self.search_columns:
            object.__setattr__(self, "search_columns", default_search_columns(self.model))

    def problems(self) -> list[str]:
        """What keeps this record type from working, each with its fix (empty: none).
        The app checks every record type at start-up and refuses to start on a problem."""
        from opiekun.models import RecordMixin

        problems = []
        if not (isinstance(self.model, type) and issubclass(self.model, RecordMixin)):
            problems.append(f"its model {self.model!r} must mix in opiekun.models.RecordMixin")
            return problems
        if getattr(self.model, "__object_type__", "") != self.name:
            problems.append(f"its model's __object_type__ must be {self.name!r}, the record type's name")
        columns = _columns_of(self.model)
        unknown = [name for name in self.search_columns if name not in columns]
        if unknown:
            problems.append(
                f"search_columns names {', '.join(unknown)}, which {self.model.__name__} has not; "
                f"name some of its columns: {', '.join(sorted(columns))}"
            )
        if self.admin_view is not None:
            from opiekun.admin.views import RecordView

            if not (isinstance(self.admin_view, type) and issubclass(self.admin_view, RecordView)):
                problems.append("admin_view must be a subclass of opiekun.admin.views.RecordView")
        return problems

    def admin_url(self, object_id: int) -> str:
        """The admin page of one record of this type."""
        return f"/admin/{self.name}/details/?id={object_id}"


def default_search_columns(model: type) -> tuple[str, ...]:
    """``name`` when the model has that column, else its text columns (maybe none)."""
    columns = _columns_of(model)
    if "name" in columns:
        return ("name",)
    return tuple(name for name, column in columns.items() if _is_text(column))


def _columns_of(model: type) -> dict[str, Any]:
    table = getattr(model, "__table__", None)
    return {column.key: column for column in table.columns} if table is not None else {}


def _is_text(column: Any) -> bool:
    from sqlalchemy import String

    return isinstance(column.type, String) and not column.foreign_keys


class RecordTypeRegistry:
    """The record types of one app, in registration order, looked up by name or model."""

    def __init__(self, record_types: Iterable[RecordType]):
        self._by_name: dict[str, RecordType] = {}
        self._by_model: dict[type, RecordType] = {}
        #: the fields plugins add to each type (``opiekun_record_fields``), by type name
        self.added_fields: dict[str, list[RecordField]] = {}
        for record_type in record_types:
            if record_type.name in self._by_name:
                raise ValueError(f"record type {record_type.name!r} is registered twice")
            self._by_name[record_type.name] = record_type
            self._by_model[record_type.model] = record_type

    def __iter__(self):
        return iter(self._by_name.values())

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return list(self._by_name)

    def get(self, name: str) -> RecordType | None:
        return self._by_name.get(name)

    def for_model(self, model: type) -> RecordType | None:
        return self._by_model.get(model)

    def fields_of(self, record_type: RecordType) -> list[RecordField]:
        """The fields plugins add to ``record_type`` (none: an empty list)."""
        return self.added_fields.get(record_type.name, [])


def added_values(model: type, fields: Iterable[RecordField], ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{id: {field: value}}`` of the added ``fields`` for the records ``ids`` of ``model``
    (one query per field; a record it does not answer for gets ``None``)."""
    values: dict[int, dict[str, Any]] = {record_id: {} for record_id in ids}
    for field in fields:
        answered = field.values_of(model, ids) if ids else {}
        for record_id in ids:
            values[record_id][field.name] = answered.get(record_id)
    return values


def record_types() -> RecordTypeRegistry:
    """The record types of the current app."""
    return current_app.extensions["opiekun.record_types"]
