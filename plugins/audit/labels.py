"""How an entry names what changed: each field's label, and the row a reference column
points at (``owner_id`` → the user's name, ``stage_id`` → the stage's name).

Both are copies taken when the entry is recorded, so the history still reads right after
a user departed, a record was deleted or the plugin that defined a field was removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from opiekun.plugin import db, record_types

#: Columns that name a row of a table that is no record type, in order of preference.
NAME_COLUMNS = ("name", "title", "number", "email")


#: How the history names its operations (``update`` → "changed"); others by their words.
OPERATION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "owner_changed": _l("owner changed"),
    "delete": _l("deleted"),
    "anonymize": _l("anonymized"),
    "purge": _l("purged"),
    "owner_assigned": _l("owner assigned"),
    "owner_assignment_changed": _l("owner period changed"),
    "owner_unassigned": _l("owner period removed"),
}


def operation_label(operation: str) -> str:
    """An operation in the user's language ("changed", "owner assigned")."""
    label = OPERATION_LABELS.get(operation)
    return str(label) if label is not None else gettext(operation.replace("_", " "))


def record_type_label(object_type: str) -> str:
    """A record type in the user's language, singular ("Firma"); a type no longer
    registered by its name."""
    record_type = record_types().get(object_type)
    return gettext(record_type.label) if record_type else object_type


def field_label(field: str) -> str:
    """A field's label in English, its message id (the admin translates it when shown),
    kept in the entry so it survives the removal of the plugin that defined the field."""
    from opiekun.plugin import FIELD_LABELS

    for key in (field, field.removesuffix("_id")):
        label = FIELD_LABELS.get(key)
        if label is not None:
            with force_locale("en"):  # the catalogs translate from English: no English catalog, the message id
                return str(label)
    return field.removesuffix("_id").replace("_", " ").capitalize()


@dataclass(frozen=True)
class Reference:
    """A column that points at another row, and how to name that row in SQL."""

    key: Any  # the target's id column
    label: ColumnElement


def _label_expression(target: type) -> ColumnElement | None:
    """How to name a row of ``target``: a record type's display name, else a name column."""
    registry = record_types()
    if registry.for_model(target) is not None:
        return target.display_name_expression()
    for name in NAME_COLUMNS:
        if name in target.__table__.c:
            return target.__table__.c[name]
    return None


def _model_of_table(table) -> type | None:
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def reference_of(model: type, field: str) -> Reference | None:
    """How to label ``model.field`` when it holds the id of another row (cached per app)."""
    cache = current_app.extensions.setdefault("audit.references", {})
    key = (model, field)
    if key not in cache:
        cache[key] = _find_reference(model, field)
    return cache[key]


def _find_reference(model: type, field: str) -> Reference | None:
    column = model.__table__.c.get(field)
    for foreign_key in column.foreign_keys if column is not None else ():
        target = _model_of_table(foreign_key.column.table)
        label = _label_expression(target) if target is not None else None
        if label is not None:
            return Reference(foreign_key.column, label)
    return None


def labels_of(connection: Connection, wanted: Mapping[Reference, set]) -> dict[tuple[Reference, Any], str]:
    """One query per referenced table: ``{(reference, id): label}``."""
    labels = {}
    for reference, ids in wanted.items():
        ids = {value for value in ids if isinstance(value, int) and not isinstance(value, bool)}
        if not ids:
            continue
        for row_id, label in connection.execute(select(reference.key, reference.label).where(reference.key.in_(ids))):
            labels[(reference, row_id)] = label
    return labels
