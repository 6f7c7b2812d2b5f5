"""The registry of record types: the six built-in ones and those plugins add.

A record type is what the API calls ``object_type``. Registering one (hook
``opiekun_record_types``) gives it the owner filters, the change stream, a generic JSON
API when it brings schemas, and a place in offboarding previews and transfers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.sql import ColumnElement


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
class RecordType:
    """One kind of CRM record.

    :param name: the ``object_type`` value (``company``, ``deal``, a partner's ``contract``…).
    :param model: the SQLAlchemy class; it must mix in :class:`opiekun.models.RecordMixin`.
    :param label: human label, singular; :param label_plural: plural (used in menus).
    :param api_path: the collection's path under ``/api/v1`` (``companies``); ``None``: no API.
    :param api: schemas for the generic API; ``None`` when the plugin serves its own routes.
    :param closed: returns a SQL condition true for closed records (won/lost deals,
        paid invoices…); ``None`` when the type has no notion of closed.
    :param search_columns: columns searched by ``?q=`` and the admin search box.
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
    search_columns: tuple[str, ...] = ("name",)
    admin_view: type | None = None
    owner_items: bool = True

    def admin_url(self, object_id: int) -> str:
        """The admin page of one record of this type."""
        return f"/admin/{self.name}/details/?id={object_id}"


class RecordTypeRegistry:
    """The record types of one app, in registration order, looked up by name or model."""

    def __init__(self, record_types: Iterable[RecordType]):
        self._by_name: dict[str, RecordType] = {}
        self._by_model: dict[type, RecordType] = {}
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


def record_types() -> RecordTypeRegistry:
    """The record types of the current app."""
    return current_app.extensions["opiekun.record_types"]
