"""What the history records per record type: which operations (default all) and which
fields are left out. A version number on the chain head changes with the configuration,
so every process knows when to re-read it (:func:`recording_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection

from opiekun.plugin import Invalid, Message, NotFound, db, record_types
from opiekun.plugins.audit.entries import KIND_OF, bump_settings_version
from opiekun.plugins.audit.models import AuditTypeSetting


@dataclass(frozen=True)
class TypeConfig:
    """What is recorded of one record type: ``operations`` (``None``: all) and the fields
    left out."""

    operations: frozenset[str] | None
    excluded_fields: frozenset[str]

    def records(self, operation: str) -> bool:
        """Whether entries of ``operation`` are recorded: it, or what it is a kind of, is
        chosen (``update`` records owner changes too)."""
        return self.operations is None or not self.operations.isdisjoint({operation, KIND_OF.get(operation)})


#: The configuration of a record type nobody configured: everything is recorded.
EVERYTHING = TypeConfig(None, frozenset())


def recording_config(connection: Connection, version: int) -> dict[str, TypeConfig]:
    """The per-type configuration, re-read only when its version changed."""
    cached = current_app.extensions.get("audit.config")
    if cached is not None and cached[0] == version:
        return cached[1]
    config = {
        row.object_type: TypeConfig(
            frozenset(row.operations) if row.operations is not None else None, frozenset(row.excluded_fields or ())
        )
        for row in connection.execute(select(AuditTypeSetting.__table__))
    }
    current_app.extensions["audit.config"] = (version, config)
    return config


def type_settings(object_type: str) -> dict[str, Any]:
    """What is recorded for ``object_type`` (``NotFound`` for an unknown record type)."""
    if object_type not in record_types():
        raise NotFound(Message("no record type %(type)r", type=object_type))
    row = db.session.get(AuditTypeSetting, object_type)
    return {
        "object_type": object_type,
        "operations": row.operations if row else None,
        "excluded_fields": (row.excluded_fields or []) if row else [],
    }


def change_type_settings(object_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set which operations of a type are recorded and which fields are left out."""
    current = type_settings(object_type)
    _check_excluded_fields(object_type, values.get("excluded_fields"))
    row = db.session.get(AuditTypeSetting, object_type)
    if row is None:
        row = AuditTypeSetting(
            object_type=object_type, operations=current["operations"], excluded_fields=current["excluded_fields"]
        )
    if "operations" in values:
        row.operations = sorted(set(values["operations"])) if values["operations"] is not None else None
    if "excluded_fields" in values:
        row.excluded_fields = sorted(set(values["excluded_fields"] or ()))
    db.session.add(row)
    db.session.flush()
    bump_settings_version(db.session.connection())
    return type_settings(object_type)


def _check_excluded_fields(object_type: str, excluded_fields: list[str] | None) -> None:
    """Refuse fields the record type does not have."""
    if excluded_fields is None:
        return
    model = record_types().get(object_type).model
    unknown = sorted(set(excluded_fields) - set(model.__table__.c.keys()))
    if unknown:
        raise Invalid(
            Message("unknown fields"),
            {
                "excluded_fields": Message(
                    "%(type)s has no field %(fields)s", type=object_type, fields=", ".join(unknown)
                )
            },
        )
