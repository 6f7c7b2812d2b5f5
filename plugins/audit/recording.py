"""Recording the change stream: the entries of one change set, chained, in the transaction
that made the change (hook ``opiekun_records_changed``).

Writes go through that transaction's connection only (core statements, never the ORM unit
of work, so recording cannot trigger another flush):

* events of one flush (:class:`~opiekun.changes.RecordChange`) become rows of one
  ``executemany`` INSERT (:func:`entries_of_records`);
* a set-based change (:class:`~opiekun.changes.BulkChange`) is written by
  :func:`~opiekun.plugins.audit.bulk_recording.append_bulk`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from opiekun.plugin import ChangeSet, FieldChange, RecordChange, record_types
from opiekun.plugins.audit import chain
from opiekun.plugins.audit.bulk_recording import append_bulk
from opiekun.plugins.audit.configuration import EVERYTHING, TypeConfig, recording_config
from opiekun.plugins.audit.entries import (
    ANONYMIZE,
    REDACTED,
    insert_entries,
    lock_head,
    move_head,
    normalized,
    recorded_operation,
)
from opiekun.plugins.audit.labels import Reference, field_label, labels_of, reference_of


def record_change_set(session, change_set: ChangeSet) -> None:
    """Write the history entries of one change set, chained, in the caller's transaction."""
    if not change_set.records and not change_set.bulk:
        return
    connection = session.connection()
    head = lock_head(connection)
    config = recording_config(connection, head["settings_version"])
    key = chain.chain_key()
    last_hash = head["last_hash"]
    actor = change_set.actor
    common = {
        "at": change_set.at,
        "user_id": actor.user_id,
        "user_name": actor.user_name,
        "job": actor.job,
        "context": normalized(dict(change_set.context)) or None,
    }
    rows = entries_of_records(connection, change_set.records, config, common)
    if rows:
        for row, entry_hash in zip(rows, chain.chain(key, last_hash, rows), strict=False):
            row["hash"] = entry_hash
        insert_entries(connection, rows)
        last_hash = rows[-1]["hash"]
    for bulk in change_set.bulk:
        type_config = config.get(bulk.object_type, EVERYTHING)
        fields = [name for name in bulk.new_values if name not in type_config.excluded_fields]
        if not fields or not type_config.records(recorded_operation(bulk.operation, fields)):
            continue
        last_hash = append_bulk(connection, key, last_hash, bulk, fields, common)
        move_head(connection, last_hash)


def object_url(object_type: str, object_id: int | None) -> str | None:
    """The admin page of the record, kept in its entries."""
    record_type = record_types().get(object_type)
    return record_type.admin_url(object_id) if record_type is not None and object_id is not None else None


#: A change to record: the event, the operation it is recorded as, its fields that are
#: recorded, and their references.
_KeptChange = tuple[RecordChange, str, list[FieldChange], dict[str, Reference]]


def entries_of_records(
    connection: Connection, records: Iterable[RecordChange], config: Mapping[str, TypeConfig], common: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The entry rows (not yet hashed) of the per-record events the configuration records,
    with the labels of referenced rows (one query per referenced table); an update of the
    owner is recorded as an owner change (:func:`~opiekun.plugins.audit.entries.recorded_operation`)."""
    kept, wanted = _recorded_changes(records, config)
    labels = labels_of(connection, wanted) if wanted else {}
    return [
        {
            **common,
            "object_type": change.object_type,
            "object_id": change.object_id,
            "object_name": change.object_name,
            "object_url": object_url(change.object_type, change.object_id),
            "operation": operation,
            "changes": normalized(_field_items(change, fields, references, labels)),
        }
        for change, operation, fields, references in kept
    ]


def _recorded_changes(
    records: Iterable[RecordChange], config: Mapping[str, TypeConfig]
) -> tuple[list[_KeptChange], dict[Reference, set]]:
    """The events to record with their recorded fields and references, and the ids each
    reference must be labelled for."""
    registry = record_types()
    kept = []
    wanted: dict[Reference, set] = defaultdict(set)
    for change in records:
        type_config = config.get(change.object_type, EVERYTHING)
        fields = [field for field in change.changes if field.field not in type_config.excluded_fields]
        if change.operation == "update" and change.changes and not fields:
            continue  # only excluded fields changed
        operation = recorded_operation(change.operation, [field.field for field in fields])
        if not type_config.records(operation):
            continue
        record_type = registry.get(change.object_type)
        references = {}
        for field in fields:
            reference = reference_of(record_type.model, field.field) if record_type is not None else None
            if reference is not None:
                references[field.field] = reference
                wanted[reference].update((field.old, field.new))
        kept.append((change, operation, fields, references))
    return kept, wanted


def _field_items(
    change: RecordChange,
    fields: list[FieldChange],
    references: Mapping[str, Reference],
    labels: Mapping[tuple[Reference, Any], str],
) -> list[dict[str, Any]]:
    """The entry's ``changes``: per field its label, old and new value and their labels (an
    anonymization keeps no old value)."""
    redact_old = change.operation == ANONYMIZE
    items = []
    for field in fields:
        reference = references.get(field.field)
        old = None if redact_old else field.old
        items.append(
            {
                "field": field.field,
                "field_label": field_label(field.field),
                "old": old,
                "new": field.new,
                "old_label": REDACTED if redact_old else (labels.get((reference, old)) if reference else None),
                "new_label": labels.get((reference, field.new)) if reference else None,
            }
        )
    return items
