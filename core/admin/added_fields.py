"""The panel's side of the fields plugins add to a record type (``opiekun_record_fields``):
their filters on the type's list and their fields on its form. The columns and the record
page's rows are drawn by :class:`opiekun.admin.views.RecordView` itself."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterConverter
from wtforms import BooleanField, DecimalField, Field, FloatField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from opiekun.admin.dates import LocalDateField, LocalDateTimeField
from opiekun.record_registry import RecordField

#: the SQL type whose filters Flask-Admin offers for a field of each Python type
FILTER_TYPES = {
    int: "integer",
    float: "float",
    Decimal: "numeric",
    bool: "boolean",
    dt.date: "date",
    dt.datetime: "datetime",
    str: "string",
}

#: the largest number a form takes for an added field (a bigger one fits no column)
LARGEST = 2**53


def added_filters(converter: FilterConverter, fields: list[RecordField]) -> list[BaseSQLAFilter]:
    """The list filters of the added fields that can be filtered (those with an
    ``expression``): equal, greater, smaller… as Flask-Admin offers them for the type."""
    filters: list[BaseSQLAFilter] = []
    for field in fields:
        if field.expression is None:
            continue
        type_name = FILTER_TYPES.get(field.type, "string")
        filters.extend(converter.convert(type_name, field.expression(), field.label) or [])
    return filters


def added_form_field(field: RecordField) -> Field:
    """The form field of an added field a plugin stores (one with ``save``), empty allowed."""
    label = field.label
    if field.type is bool:
        return BooleanField(label)
    if field.type is int:
        return IntegerField(label, validators=[Optional(), NumberRange(-LARGEST, LARGEST)])
    if field.type is float:
        return FloatField(label, validators=[Optional(), NumberRange(-LARGEST, LARGEST)])
    if field.type is Decimal:
        return DecimalField(label, validators=[Optional(), NumberRange(-LARGEST, LARGEST)])
    if field.type is dt.datetime:
        return LocalDateTimeField(label, validators=[Optional()])
    if field.type is dt.date:
        return LocalDateField(label, validators=[Optional()])
    return StringField(label, validators=[Optional(), Length(max=200)], filters=[_stripped])


def _stripped(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value
