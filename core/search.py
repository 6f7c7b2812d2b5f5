"""Searching records: ``?q=`` of every record list and the panel's search box, one rule.

A record matches when the text, **folded**, appears in one of its type's search columns,
folded too. Folding is lower case without accents (``Żółw`` → ``zolw``, ``Łódź`` →
``lodz``), so "kowalski" finds "Kowalski" and "zolw" finds "żółw". The database computes
it with the SQL function ``opiekun_search_text(text)``:

* **PostgreSQL**: created by the core's migration, on ``unaccent`` when the server has the
  extension (``lower`` alone otherwise), declared ``IMMUTABLE`` so that a trigram index
  (``pg_trgm``, GIN) on ``opiekun_search_text(column)`` answers ``LIKE '%…%'`` without
  reading the table. Each record type's migration creates those indexes for its search
  columns with :func:`create_search_indexes` — partners' too.
* **SQLite**: registered on every connection from :func:`fold` (no index: a scan, fast
  enough for the embedded default).

The text searched for is folded in Python with :func:`fold`, the same rule.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_

FUNCTION = "opiekun_search_text"
#: words of a search that count (the rest of a long text is left out: each word is a condition)
MAX_WORDS = 10
log = logging.getLogger(__name__)

#: letters Unicode does not decompose into a base letter and an accent
_LETTERS = str.maketrans(
    {"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe"}
)


def fold(text: str | None) -> str:
    """``text`` in lower case, without accents: what searching compares."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(character for character in decomposed if not unicodedata.combining(character)).lower()


def searched(column: Any) -> ColumnElement[str]:
    """``column`` folded by the database (the expression the search indexes hold)."""
    return func.opiekun_search_text(column)


def text_condition(columns: Iterable[Any], text: str) -> ColumnElement[bool]:
    """Every word of ``text`` (folded; the first :data:`MAX_WORDS` different ones)
    somewhere in one of ``columns`` (folded): "jan kowalski" finds the person whose first
    name is Jan and last name Kowalski."""
    columns = list(columns)
    words = list(dict.fromkeys(fold(text).split()))[:MAX_WORDS] or [""]
    return and_(*(or_(*(searched(column).contains(word, autoescape=True) for column in columns)) for word in words))


def register_sqlite_function(dbapi_connection, _record=None) -> None:
    """SQLite: ``opiekun_search_text`` on this connection (engine ``connect`` event)."""
    dbapi_connection.create_function(FUNCTION, 1, fold, deterministic=True)


# --- PostgreSQL: the function and the indexes, for migrations -------------------------------------


def create_search_function(op) -> None:
    """Create ``opiekun_search_text`` (PostgreSQL; nothing on SQLite): with ``pg_trgm`` and
    ``unaccent`` when the server lets this database have them. Called by the core's
    migration; partners' migrations need not."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    unaccent = _extension(bind, "unaccent")
    _extension(bind, "pg_trgm")
    if unaccent:
        body = "lower(public.unaccent('public.unaccent'::regdictionary, $1))"
    else:  # the accented Latin letters :func:`fold` maps to one letter, by translate()
        accented, plain = _latin_letters()
        body = f"lower(translate($1, '{accented}', '{plain}'))"
    bind.exec_driver_sql(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(text) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT {body} $$"
    )


def drop_search_function(op) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")


def create_search_indexes(op, table: str, columns: Sequence[str]) -> None:
    """In a record type's migration: a trigram index (GIN) per search column of ``table``,
    so ``?q=`` reads the index on PostgreSQL (named ``ix_<table>_search_<column>``; nothing
    on SQLite, or when the server has no ``pg_trgm``). Drop them with
    :func:`drop_search_indexes` in ``downgrade``."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _installed(bind, "pg_trgm"):
        return
    for column in columns:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {search_index_name(table, column)} ON {table} "
            f"USING gin ({FUNCTION}({column}) gin_trgm_ops)"
        )


def drop_search_indexes(op, table: str, columns: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in columns:
        op.execute(f"DROP INDEX IF EXISTS {search_index_name(table, column)}")


def search_index_name(table: str, column: str) -> str:
    return f"{SEARCH_INDEX_PREFIX}{table}_search_{column}"


SEARCH_INDEX_PREFIX = "ix_"


def not_a_search_index(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's ``include_object``: leave the search indexes out of a comparison with the
    models (migrations create them, the models cannot declare an index only PostgreSQL
    has), so autogenerate never proposes to drop them."""
    return not (
        type_ == "index"
        and reflected
        and compare_to is None
        and name
        and "_search_" in name
        and name.startswith(SEARCH_INDEX_PREFIX)
    )


def _latin_letters() -> tuple[str, str]:
    """Latin-1 and Latin Extended-A letters that fold to one other letter, and those letters."""
    pairs = [(chr(code), fold(chr(code))) for code in range(0xC0, 0x180)]
    kept = [(letter, plain) for letter, plain in pairs if len(plain) == 1 and plain != letter.lower()]
    return "".join(letter for letter, _ in kept), "".join(plain for _, plain in kept)


def _extension(bind, name: str) -> bool:
    """``CREATE EXTENSION IF NOT EXISTS name``; False when the server refuses (not installed,
    or no right to create it): searching then works without it, only slower."""
    if _installed(bind, name):
        return True
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {name}")
    except Exception as error:  # noqa: BLE001 - a missing extension only costs speed
        savepoint.rollback()
        log.warning("PostgreSQL extension %s is not available (%s): searching works, without it", name, error)
        return False
    savepoint.commit()
    return True


def _installed(bind, name: str) -> bool:
    """The database has the extension ``name``."""
    return bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = %s", (name,)).first() is not None
