"""Recording a set-based change (:class:`~opiekun.changes.BulkChange`): one entry per
record, hashed before it is written, in one pass.

The change's rows table is read in pages (labels of referenced rows looked up once per
page), each entry hashed from a template of what the entries share, and written in one
pass: ``COPY`` on PostgreSQL, an ``executemany`` INSERT elsewhere (see
:func:`_write_entries`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from opiekun.plugin import BulkChange, change_value, record_types
from opiekun.plugins.audit import chain
from opiekun.plugins.audit.entries import ANONYMIZE, ENTRIES, REDACTED, recorded_operation
from opiekun.plugins.audit.labels import Reference, field_label, labels_of, reference_of

#: Records read from a bulk change's rows table at a time (a few MB). Each page's COPY ends
#: waiting for the server to write its last rows, while Python hashes nothing: 20,000 instead
#: of 5,000 took 0.35 s off a transfer of 100,000 items (bench/offboarding.py, 7.51 -> 7.14 s).
BULK_PAGE = 20_000
#: A record id no admin URL holds otherwise, to find where the id goes in one.
_URL_PROBE = 987654321


def append_bulk(
    connection: Connection, key: bytes, last_hash: str, bulk: BulkChange, fields: list[str], common: Mapping[str, Any]
) -> str:
    """One entry per record of a set-based change, hashed before it is written (one pass, no
    second write): pages of what differs per record (id, name, old values and the labels of
    referenced rows, looked up once per page) are read from the change's rows table; the entry's
    canonical text and its stored ``changes`` are filled into templates of the rest; each page
    is written with one COPY (PostgreSQL) or one executemany INSERT. Returns the new head hash."""
    record_type = record_types().get(bulk.object_type)
    plan = _BulkPlan(connection, record_type, bulk, fields, common)
    rows = bulk.rows
    links = _ChainLinks(key, last_hash)
    last_id = None
    while True:
        page = select(rows.c.object_id, plan.name_column, *plan.old_columns).order_by(rows.c.object_id).limit(BULK_PAGE)
        if last_id is not None:
            page = page.where(rows.c.object_id > last_id)
        records = connection.execute(page).all()
        if records:
            plan.look_up_labels(records)
            _write_entries(connection, links.entries(plan, records))
        if len(records) < BULK_PAGE:
            return links.last_hash
        last_id = records[-1][0]


class _ChainLinks:
    """The chain as a bulk change extends it: ``last_hash`` follows the entries handed out."""

    def __init__(self, key: bytes, last_hash: str):
        self._linked, self.last_hash = chain.Linker(key), last_hash

    def entries(self, plan: _BulkPlan, records) -> Iterator[tuple]:
        """The ready entries of a page, each hashed as it is asked for (so a COPY can send
        one entry while the next is hashed)."""
        linked = self._linked
        for record in records:
            url, encoded = plan.slot_texts(record)
            self.last_hash = linked(self.last_hash, chain.text_digest(plan.canonical.fill(encoded)))
            yield (
                *plan.before,
                record[0],
                record[1],
                url,
                plan.operation,
                plan.changes.fill(encoded),
                plan.context,
                self.last_hash,
            )


class _BulkPlan:
    """What the entries of one bulk change share, and how to fill in what differs."""

    def __init__(
        self, connection: Connection, record_type, bulk: BulkChange, fields: list[str], common: Mapping[str, Any]
    ):
        model, rows = record_type.model, bulk.rows
        references = {name: reference_of(model, name) for name in fields}
        self._connection, self._references = connection, [references[name] for name in fields]
        self._labels: dict[tuple[Reference, Any], str] = {}
        self._asked: dict[Reference, set] = {}
        self._look_up(
            {reference: {bulk.new_values[name]} for name, reference in references.items() if reference is not None}
        )
        items = self._field_items(bulk, fields, references)
        self.old_columns = [rows.c[f"old_{name}"] for name in fields]
        self.name_column = _name_column(model, bulk)
        self._url = _url_parts(record_type)
        self.operation = recorded_operation(bulk.operation, fields)
        entry = {
            **common,
            "object_type": bulk.object_type,
            "object_id": chain.Slot(0),
            "object_name": chain.Slot(1),
            "object_url": chain.Slot(2),
            "operation": self.operation,
            "changes": items,
        }
        self.canonical = chain.Template.of_entry(entry)
        self.changes = chain.Template.of_value(items)
        self.context = json.dumps(common["context"]) if common["context"] else None
        self.before = (
            _as_written(connection, common["at"]),
            common["user_id"],
            common["user_name"],
            common["job"],
            bulk.object_type,
        )

    def _field_items(
        self, bulk: BulkChange, fields: list[str], references: Mapping[str, Reference | None]
    ) -> list[dict[str, Any]]:
        """The entries' ``changes``, per-record values as slots: 0, 1, 2 are the object's id,
        name and URL; then per field its old value and old label (an anonymization keeps no
        old value)."""
        anonymizing = bulk.operation == ANONYMIZE
        items = []
        for number, name in enumerate(fields):
            reference = references[name]
            new_value = bulk.new_values[name]
            old_slot, label_slot = chain.Slot(3 + 2 * number), chain.Slot(4 + 2 * number)
            items.append(
                {
                    "field": name,
                    "field_label": field_label(name),
                    "old": None if anonymizing else old_slot,
                    "new": change_value(new_value),
                    "old_label": REDACTED if anonymizing else (label_slot if reference is not None else None),
                    "new_label": self._labels.get((reference, new_value)) if reference is not None else None,
                }
            )
        return items

    def look_up_labels(self, records) -> None:
        """The labels of the rows the old values of a page refer to (a user's name…)."""
        self._look_up(
            {
                reference: {record[2 + position] for record in records}
                for position, reference in enumerate(self._references)
                if reference is not None
            }
        )

    def _look_up(self, wanted: Mapping[Reference, set]) -> None:
        """Add the labels of ``{reference: ids}`` to the change's labels, in one query per
        referenced table; ids asked before are not asked again (a transfer's old values are
        mostly one user, its new value is that of every entry)."""
        missing = {}
        for reference, ids in wanted.items():
            asked = self._asked.setdefault(reference, set())
            if ids - asked:
                missing[reference] = ids - asked
                asked |= ids
        if missing:
            self._labels.update(labels_of(self._connection, missing))

    def slot_texts(self, record) -> tuple[str | None, list[str]]:
        """For one row of a page (id, name, then the old value per field): the record's URL,
        and the JSON texts of the slots in slot order (per field its old value and label)."""
        encode = chain.encode_value
        object_id = record[0]
        url = None if self._url is None else f"{self._url[0]}{object_id}{self._url[1]}"
        texts = [encode(object_id), encode(record[1]), encode(url)]
        for old, reference in zip(record[2:], self._references, strict=False):
            texts.append(encode(change_value(old)))
            texts.append(encode(self._labels.get((reference, old)) if reference is not None else None))
        return url, texts


def _name_column(model: type, bulk: BulkChange):
    """The records' names as their entries keep them: for an anonymization the name after
    the change (the one before is personal data)."""
    rows = bulk.rows
    if bulk.operation == ANONYMIZE:
        return select(model.display_name_expression()).where(model.id == rows.c.object_id).scalar_subquery()
    return rows.c.object_name


def _url_parts(record_type) -> tuple[str, str] | None:
    """A record type's admin URL as the text before and after the record's id."""
    probe = record_type.admin_url(_URL_PROBE)
    if str(_URL_PROBE) not in probe:
        return None
    prefix, suffix = probe.split(str(_URL_PROBE), 1)
    return prefix, suffix


#: The columns a bulk change's entries are written with, in the order of the rows built above.
_WRITTEN = (
    "at",
    "user_id",
    "user_name",
    "job",
    "object_type",
    "object_id",
    "object_name",
    "object_url",
    "operation",
    "changes",
    "context",
    "hash",
)


def _write_entries(connection: Connection, entries: Iterable[tuple]) -> None:
    """Append ready entries (tuples in ``_WRITTEN`` order; ``changes`` and ``context`` as
    JSON text) in their order, which their ids follow. PostgreSQL: one COPY whose data a
    worker thread sends while the next entries are made, so the server writes one entry
    while Python hashes the next."""
    columns = ", ".join(_WRITTEN)
    if connection.dialect.name == "postgresql":
        from psycopg.copy import QueuedLibpqWriter  # the driver of PostgreSQL deployments

        cursor = connection.connection.driver_connection.cursor()
        with (
            cursor,
            cursor.copy(f"COPY {ENTRIES.name} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy,
        ):
            for entry in entries:
                copy.write_row(entry)
        return
    placeholders = ", ".join("?" for _ in _WRITTEN)  # SQLite: the driver's executemany
    connection.exec_driver_sql(f"INSERT INTO {ENTRIES.name} ({columns}) VALUES ({placeholders})", list(entries))


def _as_written(connection: Connection, at: dt.datetime) -> Any:
    """The moment as :func:`_write_entries` hands it to the driver: as the column type
    stores it (converted once for a whole change; COPY takes the datetime itself)."""
    if connection.dialect.name == "postgresql":
        return at
    stored = ENTRIES.c.at.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return stored(at) if stored is not None else at
