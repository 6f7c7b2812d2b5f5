"""JSON built by the database, on PostgreSQL and SQLite alike: the outbox writes a bulk
change's ``changes`` with it, and deliveries read each event as ready JSON text, so no
Python runs per record on either side.

=====================  ======================  ==================================
construct              PostgreSQL              SQLite
=====================  ======================  ==================================
:class:`json_object`   ``json_build_object``   ``json_object``
:class:`json_array`    ``json_build_array``    ``json_array``
:class:`json_value`    the JSON column         ``json(column)`` (text → JSON)
:class:`utc_text`      ``to_char(… 'UTC' …)``  ``replace(…, ' ', 'T')``
=====================  ======================  ==================================
"""

from __future__ import annotations

from sqlalchemy import String, Text, cast, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import JSON


class json_object(FunctionElement):  # noqa: N801 - named like the SQL function it compiles to
    """``json_object(key, value, …)``: a JSON object of the pairs."""

    type = JSON()
    inherit_cache = True


class json_array(FunctionElement):  # noqa: N801 - named like the SQL function it compiles to
    """``json_array(value, …)``: a JSON array of the values."""

    type = JSON()
    inherit_cache = True


class json_value(FunctionElement):  # noqa: N801 - named like the SQL function it compiles to
    """A JSON column as a JSON value inside :class:`json_object` (SQLite keeps JSON as text,
    which would otherwise be embedded as a string)."""

    type = JSON()
    inherit_cache = True


class utc_text(FunctionElement):  # noqa: N801 - named like the SQL function it compiles to
    """A UTC timestamp column as ISO 8601 text with microseconds and ``Z``."""

    type = Text()
    inherit_cache = True


def text_constant(value: str):
    """A string constant whose type the database knows (PostgreSQL's JSON builders need it)."""
    return cast(literal(value), String())


@compiles(json_object)
def _json_object(element, compiler, **kw) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "postgresql")
def _json_build_object(element, compiler, **kw) -> str:
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_array)
def _json_array(element, compiler, **kw) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(json_array, "postgresql")
def _json_build_array(element, compiler, **kw) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(json_value)
def _json_of_text(element, compiler, **kw) -> str:
    return f"json({compiler.process(element.clauses, **kw)})"


@compiles(json_value, "postgresql")
def _json_column(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)})"


@compiles(utc_text)
def _sqlite_utc_text(element, compiler, **kw) -> str:
    return f"(replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || 'Z')"


@compiles(utc_text, "postgresql")
def _postgresql_utc_text(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"""to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
