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


def _compiled(construct: type[FunctionElement], elsewhere: str, postgresql: str) -> None:
    """Compile ``construct`` with the format ``elsewhere`` (SQLite) or ``postgresql``, its
    arguments in place of ``{}``."""

    def compile_as(text: str):
        return lambda element, compiler, **kw: text.format(compiler.process(element.clauses, **kw))

    compiles(construct)(compile_as(elsewhere))
    compiles(construct, "postgresql")(compile_as(postgresql))


_compiled(json_object, "json_object({})", "json_build_object({})")
_compiled(json_array, "json_array({})", "json_build_array({})")
_compiled(json_value, "json({})", "({})")
_compiled(
    utc_text, "(replace({}, ' ', 'T') || 'Z')", """to_char(({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
)
