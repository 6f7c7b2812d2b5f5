"""The stored history: the entries table and the head of its hash chain.

Every entry is appended under the head's lock (:func:`lock_head`), so concurrent
transactions append one after the other and the chain has one order. Everything here
writes through the caller's connection with core statements, never the ORM unit of work
(recording happens during a flush and must not trigger another one).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from opiekun.plugins.audit import chain
from opiekun.plugins.audit.models import AuditChain, AuditEntry

ENTRIES = AuditEntry.__table__
CHAIN_HEAD = AuditChain.__table__
#: The chain head is the one row with this id.
CHAIN_HEAD_ID = 1

#: The operations the audit plugin names itself (the others come from the change stream).
ANONYMIZE = "anonymize"
PURGE = "purge"
#: What replaces personal data in the record's history.
REDACTED = "(anonymized)"
#: An update that changes the record's owner (``owner_id``, which every record type has) is
#: recorded as this operation: one entry, "owner changed", listing every field it changed.
OWNER_CHANGED = "owner_changed"
OWNER_FIELD = "owner_id"
#: The operation a recorded operation is a kind of: an owner change is an update, so a
#: filter or a per-type setting naming ``update`` takes in owner changes too.
KIND_OF = {OWNER_CHANGED: "update"}


def recorded_operation(operation: str, fields: Collection[str]) -> str:
    """The operation an entry is recorded with: an update whose recorded ``fields`` include
    the owner is an owner change; every other event keeps the change stream's name."""
    return OWNER_CHANGED if operation == "update" and OWNER_FIELD in fields else operation


def operations_named(operation: str) -> list[str]:
    """The recorded operations that a filter naming ``operation`` matches: the operation
    and its kinds (``update``: updates and owner changes)."""
    return [operation, *(kind for kind, broader in KIND_OF.items() if broader == operation)]


_LOCK_HEAD = select(CHAIN_HEAD).where(CHAIN_HEAD.c.id == CHAIN_HEAD_ID).with_for_update()

#: One entry and the head's move in one statement (constant, so compiled once).
_INSERT_MOVING_HEAD = insert(ENTRIES).add_cte(
    update(CHAIN_HEAD)
    .where(CHAIN_HEAD.c.id == CHAIN_HEAD_ID)
    .values(last_hash=bindparam("head_hash"))
    .cte("moved_head")
)


def lock_head(connection: Connection) -> dict[str, Any]:
    """Lock and read the chain's head row (created on first use). Held until commit, so
    concurrent transactions append to the chain one after the other."""
    row = connection.execute(_LOCK_HEAD).mappings().first()
    if row is None:
        first_head = {"id": CHAIN_HEAD_ID, "last_hash": chain.GENESIS, "settings_version": 0}
        connection.execute(_insert_ignoring_conflict(connection, CHAIN_HEAD, first_head))
        row = connection.execute(_LOCK_HEAD).mappings().first()
    return dict(row)


def read_head(connection: Connection) -> dict[str, Any] | None:
    """The chain head as it is (no lock; ``None`` before the first entry)."""
    row = connection.execute(select(CHAIN_HEAD).where(CHAIN_HEAD.c.id == CHAIN_HEAD_ID)).mappings().first()
    return dict(row) if row else None


def _insert_ignoring_conflict(connection: Connection, table, values: Mapping[str, Any]):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(**values).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    return insert(table).values(**values)


def move_head(connection: Connection, last_hash: str) -> None:
    """Point the chain head at the entry hashed ``last_hash`` (the newest)."""
    connection.execute(update(CHAIN_HEAD).where(CHAIN_HEAD.c.id == CHAIN_HEAD_ID).values(last_hash=last_hash))


def bump_settings_version(connection: Connection) -> None:
    """Tell every process to re-read the per-type configuration (it changed)."""
    lock_head(connection)
    connection.execute(
        update(CHAIN_HEAD)
        .where(CHAIN_HEAD.c.id == CHAIN_HEAD_ID)
        .values(settings_version=CHAIN_HEAD.c.settings_version + 1)
    )


def insert_entries(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert chained ``rows`` and move the chain head to the last one. On PostgreSQL both
    go in one statement (a data-modifying CTE: one round trip per change set)."""
    if connection.dialect.name == "postgresql":
        if len(rows) > 1:
            connection.execute(insert(ENTRIES), rows[:-1])
        connection.execute(_INSERT_MOVING_HEAD, {**rows[-1], "head_hash": rows[-1]["hash"]})
    else:
        connection.execute(insert(ENTRIES), rows)
        move_head(connection, rows[-1]["hash"])


def normalized(value: Any) -> Any:
    """What a JSON column gives back for ``value`` (so the hash taken now still matches)."""
    return json.loads(json.dumps(value, default=str))


def append_entry(connection: Connection, entry: Mapping[str, Any]) -> int:
    """Append one entry the audit plugin writes itself (a purge), chained."""
    head = lock_head(connection)
    row = {
        "context": None,
        "changes": [],
        "user_id": None,
        "user_name": None,
        "job": None,
        "object_id": None,
        "object_name": None,
        "object_url": None,
        **entry,
    }
    row["context"] = normalized(row["context"]) if row["context"] else None
    row["changes"] = normalized(row["changes"])
    row["hash"] = chain.link(chain.chain_key(), head["last_hash"], chain.digest(row))
    entry_id = connection.execute(insert(ENTRIES).returning(ENTRIES.c.id), [row]).scalar_one()
    move_head(connection, row["hash"])
    return entry_id
