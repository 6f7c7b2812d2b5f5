"""Writing the outbox: the events of a change set that some endpoint wants, in the
transaction that made the change (hook ``opiekun_records_changed``), so a change that
rolls back is never delivered and a committed one always is.

* Events of one flush become rows of one ``executemany`` INSERT.
* A set-based change (:class:`~opiekun.plugin.BulkChange`) becomes one
  ``INSERT … SELECT`` from its rows table: the ``changes`` column is built as JSON by the
  database (``json_build_object`` on PostgreSQL, ``json_object`` on SQLite), so 100,000
  records cost one statement and no Python loop.

Before writing, the transaction locks the outbox head row; the lock is held until commit,
so event ids grow in commit order (see :mod:`~opiekun.plugins.webhooks.models`). Each
endpoint that got events is handed to the delivery job when the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import cast, insert, literal, select, update
from sqlalchemy.engine import Connection

from opiekun.plugin import BulkChange, ChangeSet, RecordChange, enqueue_on_commit
from opiekun.plugins.webhooks.models import WebhookEndpoint, WebhookEvent, WebhookOutboxHead
from opiekun.plugins.webhooks.sql_json import json_array, json_object, text_constant

EVENTS = WebhookEvent.__table__
ENDPOINTS = WebhookEndpoint.__table__
#: endpoints that collect events: delivering ones, and failing ones (switched off until an
#: administrator switches them on again, then they deliver what they collected)
COLLECTING = ("active", "failing")


@dataclass(frozen=True)
class Subscription:
    """What one endpoint wants: record types and operations (empty: every one)."""

    endpoint_id: int
    status: str
    record_types: frozenset[str]
    operations: frozenset[str]

    def wants(self, object_type: str, operation: str) -> bool:
        return (not self.record_types or object_type in self.record_types) and (
            not self.operations or operation in self.operations
        )


def subscriptions(connection: Connection) -> list[Subscription]:
    """The endpoints collecting events, with what each wants."""
    rows = connection.execute(
        select(ENDPOINTS.c.id, ENDPOINTS.c.status, ENDPOINTS.c.record_types, ENDPOINTS.c.operations).where(
            ENDPOINTS.c.status.in_(COLLECTING)
        )
    )
    return [
        Subscription(row.id, row.status, frozenset(row.record_types or ()), frozenset(row.operations or ()))
        for row in rows
    ]


def write_change_set(session, change_set: ChangeSet) -> int:
    """Write the events of ``change_set`` that an endpoint wants; returns how many."""
    connection = session.connection()
    endpoints = subscriptions(connection)
    if not endpoints:
        return 0
    records = [change for change in change_set.records if _wanted_by(endpoints, change.object_type, change.operation)]
    bulks = [bulk for bulk in change_set.bulk if _wanted_by(endpoints, bulk.object_type, bulk.operation)]
    if not records and not bulks:
        return 0
    _lock_head(connection)
    common = _common_values(change_set)
    written = 0
    if records:
        connection.execute(insert(EVENTS), [_record_row(change, common) for change in records])
        written += len(records)
    for bulk in bulks:
        written += _write_bulk(connection, bulk, common)
    kinds = {(change.object_type, change.operation) for change in records}
    kinds |= {(bulk.object_type, bulk.operation) for bulk in bulks}
    for endpoint in endpoints:
        if endpoint.status == "active" and any(endpoint.wants(*kind) for kind in kinds):
            enqueue_on_commit("webhooks.deliver", once=True, endpoint_id=endpoint.endpoint_id)
    return written


def _wanted_by(endpoints: Iterable[Subscription], object_type: str, operation: str) -> bool:
    return any(endpoint.wants(object_type, operation) for endpoint in endpoints)


def _lock_head(connection: Connection) -> None:
    """Take the outbox lock until commit (a row lock on PostgreSQL; SQLite's writer holds
    the whole database already)."""
    head = WebhookOutboxHead.__table__
    connection.execute(update(head).where(head.c.id == 1).values(id=1))


def _common_values(change_set: ChangeSet) -> dict[str, Any]:
    actor = change_set.actor
    return {
        "at": change_set.at,
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "job": actor.job,
        "context": dict(change_set.context) or None,
    }


def _record_row(change: RecordChange, common: dict[str, Any]) -> dict[str, Any]:
    return {
        **common,
        "object_type": change.object_type,
        "object_id": change.object_id,
        "object_name": change.object_name,
        "operation": change.operation,
        "changes": [{"field": item.field, "old": item.old, "new": item.new} for item in change.changes],
    }


def _write_bulk(connection: Connection, bulk: BulkChange, common: dict[str, Any]) -> int:
    """One ``INSERT … SELECT`` of the bulk change's records, ``changes`` built in SQL."""
    rows = bulk.rows
    items = []
    for name, value in bulk.new_values.items():
        old = rows.c[f"old_{name}"]
        new = cast(literal(value, old.type), old.type)
        items.append(
            json_object(
                text_constant("field"), text_constant(name), text_constant("old"), old, text_constant("new"), new
            )
        )
    values = {
        "at": _constant(connection, "at", common["at"]),
        "object_type": _constant(connection, "object_type", bulk.object_type),
        "object_id": rows.c.object_id,
        "object_name": rows.c.object_name,
        "operation": _constant(connection, "operation", bulk.operation),
        "changes": json_array(*items),
        **{name: _constant(connection, name, common[name]) for name in ("user_id", "user_name", "job", "context")},
    }
    columns = list(values)
    source = select(*values.values()).order_by(rows.c.object_id)
    connection.execute(insert(EVENTS).from_select(columns, source))
    return bulk.count


def _constant(connection: Connection, column: str, value: Any):
    """``value`` for the outbox column ``column``; cast on PostgreSQL, which would read an
    untyped parameter in a SELECT list as text (SQLite's casts would turn a time into a
    number)."""
    kind = EVENTS.c[column].type
    constant = literal(value, kind)
    return cast(constant, kind) if connection.dialect.name == "postgresql" else constant
