"""The audit plugin's rules, in one place: recording the change stream, reading the history
with filters, the per-record-type configuration and retention, anonymization and
verification. The API, the admin, the jobs and the command line all come here.

Recording happens inside the transaction that made the change (hook
``opiekun_records_changed``) and writes through that transaction's connection only (core
statements, never the ORM unit of work, so recording cannot trigger another flush):

* events of one flush (:class:`~opiekun.changes.RecordChange`) become rows of one
  ``executemany`` INSERT;
* a set-based change (:class:`~opiekun.changes.BulkChange`) is read from its rows table in
  pages (labels of referenced rows joined in SQL), each entry hashed from a template of
  what the entries share, and written in one pass: ``COPY`` on PostgreSQL, an
  ``executemany`` INSERT elsewhere (see :func:`_append_bulk`).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Text, and_, bindparam, cast, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from opiekun.api.errors import Conflict, Invalid, Message, NotFound
from opiekun.changes import BulkChange, ChangeSet, RecordChange, change_context, change_value, update_records
from opiekun.extensions import db
from opiekun.models import Person, Setting, User, utcnow
from opiekun.jobs import enqueue_on_commit
from opiekun.plugins.audit import chain, jobs
from opiekun.plugins.audit.models import AuditChain, AuditEntry, AuditTypeSetting

ENTRIES = AuditEntry.__table__
HEAD = AuditChain.__table__
HEAD_ID = 1
RETENTION_KEY = "audit.retention_months"
ANONYMIZE = "anonymize"
PURGE = "purge"
#: What replaces personal data in the record's history.
REDACTED = "(anonymized)"
#: The person fields that hold personal data (replaced in the record and its history).
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "position")
BULK_PAGE = 5000
_URL_PROBE = 987654321


# --- field labels and references -------------------------------------------------------------


def field_label(field: str) -> str:
    """A field's label as its English message id (the admin translates it when shown), kept
    in the entry so it survives the removal of the plugin that defined the field."""
    from opiekun.admin.labels import FIELD_LABELS

    for key in (field, field.removesuffix("_id")):
        label = FIELD_LABELS.get(key)
        if label is not None:
            return str(getattr(label, "_args", (label,))[0])
    return field.removesuffix("_id").replace("_", " ").capitalize()


@dataclass(frozen=True)
class Reference:
    """A column that points at another row, and how to name that row in SQL."""

    key: Any  # the target's id column
    label: ColumnElement


def _label_expression(target: type) -> ColumnElement | None:
    registry = current_app.extensions["opiekun.record_types"]
    if registry.for_model(target) is not None:
        return target.display_name_expression()
    for name in ("name", "title", "number", "email"):
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
        found = None
        column = model.__table__.c.get(field)
        for foreign_key in (column.foreign_keys if column is not None else ()):
            target = _model_of_table(foreign_key.column.table)
            label = _label_expression(target) if target is not None else None
            if label is not None:
                found = Reference(foreign_key.column, label)
                break
        cache[key] = found
    return cache[key]


def _labels(connection: Connection, wanted: Mapping[Reference, set]) -> dict[tuple[Reference, Any], str]:
    """One query per referenced table: ``{(reference, id): label}``."""
    labels = {}
    for reference, ids in wanted.items():
        ids = {value for value in ids if isinstance(value, int) and not isinstance(value, bool)}
        if not ids:
            continue
        for row_id, label in connection.execute(select(reference.key, reference.label).where(reference.key.in_(ids))):
            labels[(reference, row_id)] = label
    return labels


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeConfig:
    operations: frozenset[str] | None
    excluded_fields: frozenset[str]

    def records(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


EVERYTHING = TypeConfig(None, frozenset())


def _config(connection: Connection, version: int) -> dict[str, TypeConfig]:
    """The per-type configuration, re-read only when its version changed."""
    cached = current_app.extensions.get("audit.config")
    if cached is not None and cached[0] == version:
        return cached[1]
    config = {
        row.object_type: TypeConfig(frozenset(row.operations) if row.operations is not None else None,
                                    frozenset(row.excluded_fields or ()))
        for row in connection.execute(select(AuditTypeSetting.__table__))
    }
    current_app.extensions["audit.config"] = (version, config)
    return config


# --- the chain head ----------------------------------------------------------------------------


_LOCK_HEAD = select(HEAD).where(HEAD.c.id == HEAD_ID).with_for_update()


def lock_head(connection: Connection) -> dict[str, Any]:
    """Lock and read the chain's head row (created on first use). Held until commit, so
    concurrent transactions append to the chain one after the other."""
    statement = _LOCK_HEAD
    row = connection.execute(statement).mappings().first()
    if row is None:
        connection.execute(_insert_ignoring_conflict(connection, HEAD, {"id": HEAD_ID,
                                                                          "last_hash": chain.GENESIS, "settings_version": 0}))
        row = connection.execute(statement).mappings().first()
    return dict(row)


def _insert_ignoring_conflict(connection: Connection, table, values: Mapping[str, Any]):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).values(**values).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).values(**values).on_conflict_do_nothing()
    return insert(table).values(**values)


def _move_head(connection: Connection, last_hash: str) -> None:
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_hash=last_hash))


#: One entry and the head's move in one statement (constant, so compiled once).
_INSERT_MOVING_HEAD = insert(ENTRIES).add_cte(
    update(HEAD).where(HEAD.c.id == HEAD_ID).values(last_hash=bindparam("head_hash")).cte("moved_head"))


def _insert_entries(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert chained ``rows`` and move the chain head to the last one. On PostgreSQL both
    go in one statement (a data-modifying CTE: one round trip per change set)."""
    if connection.dialect.name == "postgresql":
        if len(rows) > 1:
            connection.execute(insert(ENTRIES), rows[:-1])
        connection.execute(_INSERT_MOVING_HEAD, {**rows[-1], "head_hash": rows[-1]["hash"]})
    else:
        connection.execute(insert(ENTRIES), rows)
        _move_head(connection, rows[-1]["hash"])


def _normalized(value: Any) -> Any:
    """What a JSON column gives back for ``value`` (so the hash taken now still matches)."""
    return json.loads(json.dumps(value, default=str))


# --- recording ---------------------------------------------------------------------------------


def record_change_set(session, change_set: ChangeSet) -> None:
    """Write the history entries of one change set, chained, in the caller's transaction."""
    if not change_set.records and not change_set.bulk:
        return
    connection = session.connection()
    head = lock_head(connection)
    config = _config(connection, head["settings_version"])
    key = chain.chain_key()
    last_hash = head["last_hash"]
    actor = change_set.actor
    common = {
        "at": change_set.at, "user_id": actor.user_id, "user_name": actor.user_name, "job": actor.job,
        "context": _normalized(dict(change_set.context)) or None,
    }
    rows = _entries_of_records(connection, change_set.records, config, common)
    if rows:
        for row, entry_hash in zip(rows, chain.chain(key, last_hash, rows)):
            row["hash"] = entry_hash
        _insert_entries(connection, rows)
        last_hash = rows[-1]["hash"]
    for bulk in change_set.bulk:
        type_config = config.get(bulk.object_type, EVERYTHING)
        if not type_config.records(bulk.operation):
            continue
        fields = [name for name in bulk.new_values if name not in type_config.excluded_fields]
        if not fields:
            continue
        last_hash = _append_bulk(connection, key, last_hash, bulk, fields, common)
        _move_head(connection, last_hash)


def _object_url(object_type: str, object_id: int | None) -> str | None:
    record_type = current_app.extensions["opiekun.record_types"].get(object_type)
    return record_type.admin_url(object_id) if record_type is not None and object_id is not None else None


def _entries_of_records(connection: Connection, records: Iterable[RecordChange], config: Mapping[str, TypeConfig],
                        common: Mapping[str, Any]) -> list[dict[str, Any]]:
    registry = current_app.extensions["opiekun.record_types"]
    kept = []
    wanted: dict[Reference, set] = defaultdict(set)
    for change in records:
        type_config = config.get(change.object_type, EVERYTHING)
        if not type_config.records(change.operation):
            continue
        fields = [field for field in change.changes if field.field not in type_config.excluded_fields]
        if change.operation == "update" and change.changes and not fields:
            continue  # only excluded fields changed
        record_type = registry.get(change.object_type)
        references = {}
        for field in fields:
            reference = reference_of(record_type.model, field.field) if record_type is not None else None
            if reference is not None:
                references[field.field] = reference
                wanted[reference].update((field.old, field.new))
        kept.append((change, fields, references))
    labels = _labels(connection, wanted) if wanted else {}
    rows = []
    for change, fields, references in kept:
        redact_old = change.operation == ANONYMIZE
        items = []
        for field in fields:
            reference = references.get(field.field)
            old = None if redact_old else field.old
            items.append({
                "field": field.field, "field_label": field_label(field.field),
                "old": old, "new": field.new,
                "old_label": REDACTED if redact_old else (labels.get((reference, old)) if reference else None),
                "new_label": labels.get((reference, field.new)) if reference else None,
            })
        rows.append({
            **common, "object_type": change.object_type, "object_id": change.object_id,
            "object_name": change.object_name, "object_url": _object_url(change.object_type, change.object_id),
            "operation": change.operation, "changes": _normalized(items),
        })
    return rows


def _append_bulk(connection: Connection, key: bytes, last_hash: str, bulk: BulkChange, fields: list[str],
                 common: Mapping[str, Any]) -> str:
    """One entry per record of a set-based change, hashed before it is written (one pass, no
    second write): pages of what differs per record (id, name, old values and the labels of
    referenced rows, looked up once per page) are read from the change's rows table; the entry's
    canonical text and its stored ``changes`` are filled into templates of the rest; each page
    is written with one COPY (PostgreSQL) or one executemany INSERT. Returns the new head hash."""
    record_type = current_app.extensions["opiekun.record_types"].get(bulk.object_type)
    plan = _BulkPlan(connection, record_type, bulk, fields, common)
    rows = bulk.rows
    links = _Links(key, last_hash)
    last_id = None
    while True:
        page = select(rows.c.object_id, plan.name_column, *plan.old_columns).order_by(rows.c.object_id).limit(BULK_PAGE)
        if last_id is not None:
            page = page.where(rows.c.object_id > last_id)
        records = connection.execute(page).all()
        if not records:
            return links.last_hash
        plan.look_up_labels(records)
        _write_entries(connection, links.entries(plan, records))
        last_id = records[-1][0]


class _Links:
    """The chain as a bulk change extends it: ``last_hash`` follows the entries handed out."""

    def __init__(self, key: bytes, last_hash: str):
        self._key, self.last_hash = key, last_hash

    def entries(self, plan: "_BulkPlan", records) -> Iterator[tuple]:
        """The ready entries of a page, each hashed as it is asked for (so a COPY can send
        one entry while the next is hashed)."""
        key = self._key
        for record in records:
            url, encoded = plan.slot_texts(record)
            self.last_hash = chain.link(key, self.last_hash, chain.text_digest(plan.canonical.fill(encoded)))
            yield (*plan.before, record[0], record[1], url, plan.operation, plan.changes.fill(encoded), plan.context,
                   self.last_hash)


class _BulkPlan:
    """What the entries of one bulk change share, and how to fill in what differs."""

    def __init__(self, connection: Connection, record_type, bulk: BulkChange, fields: list[str], common: Mapping[str, Any]):
        model, rows = record_type.model, bulk.rows
        anonymizing = bulk.operation == ANONYMIZE
        references = {name: reference_of(model, name) for name in fields}
        self._connection, self._references = connection, [references[name] for name in fields]
        self._labels: dict[tuple[Reference, Any], str] = {}
        self._asked: dict[Reference, set] = {}
        self._look_up({reference: {bulk.new_values[name]} for name, reference in references.items() if reference is not None})
        # slots 0, 1, 2: object id, name, URL; then per field its old value and old label
        items, self.old_columns = [], []
        for number, name in enumerate(fields):
            reference = references[name]
            new_value = bulk.new_values[name]
            old_slot, label_slot = chain.Slot(3 + 2 * number), chain.Slot(4 + 2 * number)
            items.append({
                "field": name, "field_label": field_label(name),
                "old": None if anonymizing else old_slot, "new": change_value(new_value),
                "old_label": REDACTED if anonymizing else (label_slot if reference is not None else None),
                "new_label": self._labels.get((reference, new_value)) if reference is not None else None,
            })
            self.old_columns.append(rows.c[f"old_{name}"])
        if anonymizing:  # the name after the change: the one before is personal data
            self.name_column = select(model.display_name_expression()).where(model.id == rows.c.object_id).scalar_subquery()
        else:
            self.name_column = rows.c.object_name
        self._url = _url_parts(record_type)
        entry = {**common, "object_type": bulk.object_type, "object_id": chain.Slot(0), "object_name": chain.Slot(1),
                 "object_url": chain.Slot(2), "operation": bulk.operation, "changes": items}
        self.canonical = chain.Template.of_entry(entry)
        self.changes = chain.Template.of_value(items)
        self.context = json.dumps(common["context"]) if common["context"] else None
        self.before = (_as_written(connection, common["at"]), common["user_id"], common["user_name"], common["job"], bulk.object_type)
        self.operation = bulk.operation

    def look_up_labels(self, records) -> None:
        """The labels of the rows the old values of a page refer to (a user's name…)."""
        self._look_up({reference: {record[2 + position] for record in records}
                       for position, reference in enumerate(self._references) if reference is not None})

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
            self._labels.update(_labels(self._connection, missing))

    def slot_texts(self, record) -> tuple[str | None, list[str]]:
        """For one row of a page (id, name, then the old value per field): the record's URL,
        and the JSON texts of the slots in slot order (per field its old value and label)."""
        encode = chain.encode_value
        object_id = record[0]
        url = None if self._url is None else f"{self._url[0]}{object_id}{self._url[1]}"
        texts = [encode(object_id), encode(record[1]), encode(url)]
        for old, reference in zip(record[2:], self._references):
            texts.append(encode(change_value(old)))
            texts.append(encode(self._labels.get((reference, old)) if reference is not None else None))
        return url, texts


def _url_parts(record_type) -> tuple[str, str] | None:
    """A record type's admin URL as the text before and after the record's id."""
    probe = record_type.admin_url(_URL_PROBE)
    if str(_URL_PROBE) not in probe:
        return None
    prefix, suffix = probe.split(str(_URL_PROBE), 1)
    return prefix, suffix


#: The columns a bulk change's entries are written with, in the order of the rows built above.
_WRITTEN = ("at", "user_id", "user_name", "job", "object_type", "object_id", "object_name", "object_url",
            "operation", "changes", "context", "hash")


def _write_entries(connection: Connection, entries: Iterable[tuple]) -> None:
    """Append ready entries (tuples in ``_WRITTEN`` order; ``changes`` and ``context`` as
    JSON text) in their order, which their ids follow. PostgreSQL: one COPY whose data a
    worker thread sends while the next entries are made, so the server writes one entry
    while Python hashes the next."""
    columns = ", ".join(_WRITTEN)
    if connection.dialect.name == "postgresql":
        from psycopg.copy import QueuedLibpqWriter  # the driver of PostgreSQL deployments

        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {ENTRIES.name} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cursor)) as copy:
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


def _entry_rows(connection: Connection, statement) -> Iterator[Mapping[str, Any]]:
    result = connection.execution_options(stream_results=True, yield_per=BULK_PAGE).execute(statement)
    for partition in result.mappings().partitions():
        yield from partition


def append_entry(connection: Connection, entry: Mapping[str, Any]) -> int:
    """Append one entry the audit plugin writes itself (a purge), chained."""
    head = lock_head(connection)
    row = {"context": None, "changes": [], "user_id": None, "user_name": None, "job": None,
           "object_id": None, "object_name": None, "object_url": None, **entry}
    row["context"] = _normalized(row["context"]) if row["context"] else None
    row["changes"] = _normalized(row["changes"])
    row["hash"] = chain.link(chain.chain_key(), head["last_hash"], chain.digest(row))
    entry_id = connection.execute(insert(ENTRIES).returning(ENTRIES.c.id), [row]).scalar_one()
    _move_head(connection, row["hash"])
    return entry_id


# --- reading the history -----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFilter:
    """The filters of the history list, the API and the export (all optional)."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    user_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    operation: str | None = None

    def as_params(self) -> dict[str, str]:
        params = {"from": self.date_from, "to": self.date_to, "user_id": self.user_id, "object_type": self.object_type,
                  "object_id": self.object_id, "operation": self.operation}
        return {name: str(value) for name, value in params.items() if value is not None}

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "HistoryFilter":
        """From query-string-like values (the admin's filter form, a job's arguments);
        raises :class:`~opiekun.api.errors.Invalid` naming the bad parameter."""
        problems = {}
        values: dict[str, Any] = {}
        for name, attribute in (("from", "date_from"), ("to", "date_to")):
            text = (params.get(name) or "").strip() if isinstance(params.get(name) or "", str) else params.get(name)
            if text:
                try:
                    values[attribute] = text if isinstance(text, dt.date) else dt.date.fromisoformat(text)
                except ValueError:
                    problems[name] = Message("not a date: use YYYY-MM-DD")
        for name in ("user_id", "object_id"):
            text = str(params.get(name) or "").strip()
            if text:
                if not text.isdigit() or not 0 < int(text) < 2**31:
                    problems[name] = Message("must be a positive whole number")
                else:
                    values[name] = int(text)
        for name in ("object_type", "operation"):
            text = str(params.get(name) or "").strip()
            if text:
                values[name] = text
        if problems:
            raise Invalid(Message("some filters are not valid"), problems)
        return cls(**values)


def known_object_types() -> list[str]:
    """The record types of this app, then types that only the history still knows (a
    removed plugin's)."""
    registered = current_app.extensions["opiekun.record_types"].names()
    recorded = db.session.scalars(select(AuditEntry.object_type).distinct()).all()
    return [*registered, *sorted(set(recorded) - set(registered))]


def known_operations() -> list[str]:
    base = ["create", "update", "delete", ANONYMIZE]
    recorded = db.session.scalars(select(AuditEntry.operation).distinct()).all()
    return [*base, *sorted(set(recorded) - set(base))]


def check_filter(history_filter: HistoryFilter) -> None:
    """Refuse filters that cannot match anything because they name nothing that exists."""
    problems = {}
    if history_filter.date_from and history_filter.date_to and history_filter.date_from > history_filter.date_to:
        problems["to"] = Message("must not be before 'from'")
    if history_filter.user_id is not None and db.session.get(User, history_filter.user_id) is None:
        problems["user_id"] = Message("no user with id %(id)s", id=history_filter.user_id)
    if history_filter.object_type is not None and history_filter.object_type not in known_object_types():
        problems["object_type"] = Message("unknown record type %(type)r", type=history_filter.object_type)
    if history_filter.object_id is not None and history_filter.object_type is None:
        problems["object_id"] = Message("give object_type too")
    if problems:
        raise Invalid(Message("some filters are not valid"), problems)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


def filtered_entries(history_filter: HistoryFilter, columns=None):
    """The SELECT of the entries matching the filter, newest first."""
    statement = select(*(columns or [ENTRIES])).select_from(ENTRIES)
    conditions = []
    if history_filter.date_from:
        conditions.append(ENTRIES.c.at >= _day_start(history_filter.date_from))
    if history_filter.date_to:
        conditions.append(ENTRIES.c.at < _day_start(history_filter.date_to + dt.timedelta(days=1)))
    for name in ("user_id", "object_type", "object_id", "operation"):
        value = getattr(history_filter, name)
        if value is not None:
            conditions.append(ENTRIES.c[name] == value)
    if conditions:
        statement = statement.where(and_(*conditions))
    return statement.order_by(ENTRIES.c.id.desc())


def count_entries(history_filter: HistoryFilter) -> int:
    statement = filtered_entries(history_filter, [func.count()]).order_by(None)
    return db.session.scalar(statement)


def page_of_entries(history_filter: HistoryFilter, page: int, per_page: int) -> tuple[list[Mapping[str, Any]], int]:
    check_filter(history_filter)
    total = count_entries(history_filter)
    rows = db.session.execute(filtered_entries(history_filter).limit(per_page).offset((page - 1) * per_page)).mappings().all()
    return [dict(row) for row in rows], total


def users_for_filter() -> list[tuple[int, str]]:
    """Every user who ever appears in the history or exists, departed ones marked."""
    rows = db.session.execute(select(User.id, User.name, User.status).order_by(User.name)).all()
    return [(user_id, f"{name} (departed)" if status == "departed" else name) for user_id, name, status in rows]


# --- configuration and retention ---------------------------------------------------------------


def type_settings(object_type: str) -> dict[str, Any]:
    if object_type not in current_app.extensions["opiekun.record_types"]:
        raise NotFound(Message("no record type %(type)r", type=object_type))
    row = db.session.get(AuditTypeSetting, object_type)
    return {"object_type": object_type, "operations": row.operations if row else None,
            "excluded_fields": (row.excluded_fields or []) if row else []}


def change_type_settings(object_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set which operations of a type are recorded and which fields are left out."""
    current = type_settings(object_type)
    model = current_app.extensions["opiekun.record_types"].get(object_type).model
    if "excluded_fields" in values and values["excluded_fields"] is not None:
        unknown = sorted(set(values["excluded_fields"]) - set(model.__table__.c.keys()))
        if unknown:
            raise Invalid(Message("unknown fields"), {"excluded_fields": Message("%(type)s has no field %(fields)s", type=object_type,
                                                                                fields=", ".join(unknown))})
    row = db.session.get(AuditTypeSetting, object_type)
    if row is None:
        row = AuditTypeSetting(object_type=object_type, operations=current["operations"],
                               excluded_fields=current["excluded_fields"])
    if "operations" in values:
        row.operations = sorted(set(values["operations"])) if values["operations"] is not None else None
    if "excluded_fields" in values:
        row.excluded_fields = sorted(set(values["excluded_fields"] or ()))
    db.session.add(row)
    db.session.flush()
    _bump_settings_version()
    return type_settings(object_type)


def _bump_settings_version() -> None:
    connection = db.session.connection()
    lock_head(connection)
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(settings_version=HEAD.c.settings_version + 1))


def retention_months() -> int | None:
    setting = db.session.get(Setting, RETENTION_KEY)
    return setting.value if setting is not None else None


def set_retention_months(months: int | None) -> None:
    setting = db.session.get(Setting, RETENTION_KEY)
    if months is None:
        if setting is not None:
            db.session.delete(setting)
    elif setting is None:
        db.session.add(Setting(key=RETENTION_KEY, value=months))
    else:
        setting.value = months
    db.session.flush()


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                           31, 31, 30, 31, 30, 31][month])
    return moment.replace(year=year, month=month + 1, day=day)


def purge_old_entries(now: dt.datetime | None = None) -> dict[str, Any]:
    """Delete entries older than the retention setting (nothing when it is unset); one
    chained ``purge`` entry says what went, so verification continues from it."""
    months = retention_months()
    if not months:
        return {"purged": 0, "retention_months": None}
    cutoff = months_before(now or utcnow(), months)
    connection = db.session.connection()
    lock_head(connection)
    last = connection.execute(select(ENTRIES.c.id, ENTRIES.c.hash).where(ENTRIES.c.at < cutoff)
                              .order_by(ENTRIES.c.id.desc()).limit(1)).first()
    if last is None:
        return {"purged": 0, "retention_months": months}
    purged = connection.execute(ENTRIES.delete().where(ENTRIES.c.id <= last.id)).rowcount
    append_entry(connection, {
        "at": utcnow(), "object_type": "audit", "operation": PURGE, "job": "audit.purge",
        "context": {"before": chain.timestamp_text(cutoff), "purged": purged, "last_purged_id": last.id,
                    "last_purged_hash": last.hash},
    })
    return {"purged": purged, "retention_months": months}


# --- anonymization -----------------------------------------------------------------------------


def anonymized_values(person_id: int) -> dict[str, Any]:
    return {"first_name": "Anonymized", "last_name": f"person #{person_id}", "email": None, "phone": None,
            "position": None}


def _redact_changes(changes: list, personal: set[str]) -> list:
    rewritten = []
    for item in changes or []:
        item = dict(item)
        if item.get("field") in personal:
            for side in ("old", "new"):
                if item.get(side) is not None:
                    item[side] = REDACTED
                if item.get(f"{side}_label") is not None:
                    item[f"{side}_label"] = REDACTED
        rewritten.append(item)
    return rewritten


def _redact_labels(changes: list, reference_fields: set[str], person_id: int) -> list:
    rewritten = []
    for item in changes or []:
        item = dict(item)
        if item.get("field") in reference_fields:
            for side in ("old", "new"):
                if item.get(side) == person_id and item.get(f"{side}_label") is not None:
                    item[f"{side}_label"] = REDACTED
        rewritten.append(item)
    return rewritten


def _person_reference_fields() -> dict[str, set[str]]:
    """Per record type, the fields that point at persons (their labels name the person)."""
    fields: dict[str, set[str]] = {}
    for record_type in current_app.extensions["opiekun.record_types"]:
        for column in record_type.model.__table__.c:
            if any(fk.column.table is Person.__table__ for fk in column.foreign_keys):
                fields.setdefault(record_type.name, set()).add(column.key)
    return fields


def anonymize_person(person_id: int) -> Mapping[str, Any]:
    """Replace a person's personal data in the record and in every earlier history entry
    (theirs, and labels naming them in other records' entries); one ``anonymize`` entry,
    by the acting user, remains. The caller commits.

    Raises :class:`NotFound` for an unknown person and :class:`Conflict` when the person
    was anonymized already.
    """
    person = db.session.get(Person, person_id) if 0 < person_id < 2**31 else None
    if person is None:
        raise NotFound(Message("no person with id %(id)s", id=person_id))
    already = db.session.scalar(select(ENTRIES.c.id).where(ENTRIES.c.object_type == "person", ENTRIES.c.object_id == person_id,
                                                           ENTRIES.c.operation == ANONYMIZE).limit(1))
    if already is not None:
        raise Conflict(Message("person %(id)s was anonymized already (history entry #%(entry)s)", id=person_id, entry=already))
    db.session.flush()
    connection = db.session.connection()
    lock_head(connection)  # no entry may be appended while earlier ones are rewritten
    new_name = " ".join(value for value in (anonymized_values(person_id)["first_name"],
                                            anonymized_values(person_id)["last_name"]) if value)
    redacted: dict[str, list[str]] = {}
    personal = set(PERSONAL_FIELDS)
    rewrites = []
    own = select(ENTRIES).where(ENTRIES.c.object_type == "person", ENTRIES.c.object_id == person_id).order_by(ENTRIES.c.id)
    for row in connection.execute(own).mappings().all():
        entry = dict(row)
        before = chain.digest(entry)
        entry["object_name"] = new_name
        entry["changes"] = _redact_changes(entry["changes"], personal)
        rewrites.append((entry, before))
    for object_type, fields in _person_reference_fields().items():
        candidates = select(ENTRIES).where(ENTRIES.c.object_type == object_type,
                                           cast(ENTRIES.c.changes, Text).like(f"%{person_id}%")).order_by(ENTRIES.c.id)
        for row in connection.execute(candidates).mappings().all():
            entry = dict(row)
            before = chain.digest(entry)
            entry["changes"] = _redact_labels(entry["changes"], fields, person_id)
            if chain.digest(entry) != before:
                rewrites.append((entry, before))
    setter = (update(ENTRIES).where(ENTRIES.c.id == bindparam("entry_id"))
              .values(object_name=bindparam("new_name"), changes=bindparam("new_changes")))
    earlier = _earlier_redactions(connection)
    for entry, before in rewrites:
        original = earlier.get(entry["id"], (before, before))[0]
        redacted[str(entry["id"])] = [original, chain.digest(entry)]
    if rewrites:
        connection.execute(setter, [{"entry_id": entry["id"], "new_name": entry["object_name"], "new_changes": entry["changes"]}
                                    for entry, _ in rewrites])
    with change_context(redacted=redacted):
        update_records(db.session, Person, Person.id == person_id, anonymized_values(person_id), operation=ANONYMIZE)
    # any export file may hold the person's data: gone now, and again once this commits
    # (an export running meanwhile then discards its file)
    jobs.forget_exports()
    enqueue_on_commit(jobs.FORGET_EXPORTS)
    return {"person_id": person_id, "rewritten_entries": len(rewrites)}


def _earlier_redactions(connection: Connection) -> dict[int, tuple[str, str]]:
    redactions: dict[int, tuple[str, str]] = {}
    statement = select(ENTRIES.c.context).where(ENTRIES.c.operation == ANONYMIZE).order_by(ENTRIES.c.id)
    for context in connection.execute(statement).scalars():
        for entry_id, (before, after) in ((context or {}).get("redacted") or {}).items():
            original = redactions.get(int(entry_id), (before, after))[0]
            redactions[int(entry_id)] = (original, after)
    return redactions


# --- verification ------------------------------------------------------------------------------


def verify_history(progress: Callable[[int], None] | None = None, progress_every: int = 10_000) -> chain.Verdict:
    """Check the whole chain (streamed in id order); names the first bad entry.
    ``progress(checked)`` is called every ``progress_every`` entries (a background run)."""
    connection = db.session.connection()
    redactions = _earlier_redactions(connection)
    purge_hashes = {
        (context or {}).get("last_purged_hash")
        for context in connection.execute(select(ENTRIES.c.context).where(ENTRIES.c.operation == PURGE)).scalars()
    } - {None}
    head = connection.execute(select(HEAD).where(HEAD.c.id == HEAD_ID)).mappings().first()
    rows = _entry_rows(connection, select(ENTRIES).order_by(ENTRIES.c.id))
    if progress is not None:
        rows = _counted(rows, progress, progress_every)
    return chain.verify(chain.chain_key(), rows, redactions, purge_hashes, dict(head) if head else None)


def _counted(rows: Iterable[Any], progress: Callable[[int], None], every: int) -> Iterator[Any]:
    """``rows`` as they are, calling ``progress(n)`` after every ``every``-th."""
    for number, row in enumerate(rows, 1):
        yield row
        if number % every == 0:
            progress(number)
