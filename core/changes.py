"""The change stream: every create, update and delete of a record, as events.

Two sources feed it, and both reach the ``opiekun_records_changed`` hook *inside the
transaction that made the change* (a rolled-back change never has events, a committed one
always has):

* an ORM listener turns each flush into :class:`RecordChange` events with per-field old
  and new values;
* :func:`update_records` changes many rows with one ``UPDATE … WHERE`` and describes them
  as one :class:`BulkChange`, whose rows a consumer can copy with ``INSERT … SELECT``
  instead of looping in Python.

Every event carries the :class:`Actor` (the user of the request, or the job) and the
context set with :func:`change_context` (e.g. ``transfer_id`` of an offboarding run).
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    cast,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, attributes, object_mapper, scoped_session
from sqlalchemy.orm.exc import UnmappedInstanceError

from opiekun.models import utcnow

#: Columns that change on every write and say nothing a reader of the history needs.
UNTRACKED_FIELDS = frozenset({"id", "created_at", "updated_at"})

_PENDING_KEY = "opiekun.pending_changes"


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a user, a background job, or both (a job started by a user)."""

    user_id: int | None = None
    user_name: str | None = None
    job: str | None = None

    @property
    def label(self) -> str:
        if self.user_name and self.job:
            return f"{self.user_name} (job {self.job})"
        return self.user_name or (f"job {self.job}" if self.job else "system")


SYSTEM = Actor()

_current_actor: ContextVar[Actor] = ContextVar("opiekun_actor", default=SYSTEM)
_current_context: ContextVar[Mapping[str, Any]] = ContextVar("opiekun_change_context", default=MappingProxyType({}))


def current_actor() -> Actor:
    return _current_actor.get()


def current_context() -> Mapping[str, Any]:
    """The values set with :func:`change_context` around the current change (``{}`` outside
    any), for code that builds its own :class:`ChangeSet` (e.g. events of a set-based
    change that no column update expresses)."""
    return _current_context.get()


def set_actor(actor: Actor):
    """Make ``actor`` current until :func:`restore_actor` is called with the returned token
    (for request hooks, where a ``with`` block cannot span the request)."""
    return _current_actor.set(actor)


def restore_actor(token) -> None:
    _current_actor.reset(token)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute every change made inside the block to ``actor``."""
    token = _current_actor.set(actor)
    try:
        yield actor
    finally:
        _current_actor.reset(token)


@contextmanager
def change_context(**values: Any) -> Iterator[Mapping[str, Any]]:
    """Tag every change made inside the block, e.g. ``change_context(transfer_id=7)``."""
    merged = {**_current_context.get(), **values}
    token = _current_context.set(merged)
    try:
        yield merged
    finally:
        _current_context.reset(token)


def change_value(value: Any) -> Any:
    """A field value as it travels in events: JSON-friendly (dates ISO, decimals as text)."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RecordChange:
    """One event about one record.

    ``operation`` is ``create``, ``update``, ``delete`` or a plugin's own event name
    (``anonymize``, ``relation_added``, ``stage_changed``…).
    """

    object_type: str
    object_id: int
    object_name: str
    operation: str
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class BulkChange:
    """Many records changed by one set-based statement.

    ``rows`` is a table (temporary, alive until the hook returns) with one row per changed
    record: ``object_id``, ``object_name`` and ``old_<field>`` for each field in
    ``new_values``. Read it with :meth:`field_changes` (SQL, for ``INSERT … SELECT``) or
    :meth:`record_changes` (Python, in batches).
    """

    object_type: str
    operation: str
    rows: Table
    new_values: Mapping[str, Any]
    count: int

    def field_changes(self):
        """A SELECT of ``object_id, object_name, field, old, new`` (values as text), one row
        per record and changed field."""
        per_field = [
            select(
                self.rows.c.object_id,
                self.rows.c.object_name,
                literal(name).label("field"),
                cast(self.rows.c[f"old_{name}"], String).label("old"),
                cast(literal(change_value(value)), String).label("new"),
            )
            for name, value in self.new_values.items()
        ]
        return per_field[0] if len(per_field) == 1 else union_all(*per_field)

    def record_changes(self, session: Session, batch_size: int = 5000) -> Iterator[RecordChange]:
        """The same rows as :class:`RecordChange` objects, fetched ``batch_size`` at a time."""
        result = session.execute(select(self.rows).execution_options(yield_per=batch_size))
        for row in result:
            yield RecordChange(
                object_type=self.object_type,
                object_id=row.object_id,
                object_name=row.object_name,
                operation=self.operation,
                changes=tuple(
                    FieldChange(name, change_value(row._mapping[f"old_{name}"]), change_value(value))
                    for name, value in self.new_values.items()
                ),
            )


@dataclass(frozen=True)
class ChangeSet:
    """What the ``opiekun_records_changed`` hook receives: the events of one flush or bulk
    statement, with who made them, when, and in which context."""

    actor: Actor
    at: dt.datetime
    context: Mapping[str, Any] = field(default_factory=dict)
    records: tuple[RecordChange, ...] = ()
    bulk: tuple[BulkChange, ...] = ()

    def __len__(self) -> int:
        return len(self.records) + sum(change.count for change in self.bulk)


# --- the ORM listener --------------------------------------------------------------------


def _record_type_of(instance: Any):
    registry = current_app.extensions.get("opiekun.record_types")
    return registry.for_model(type(instance)) if registry else None


def _tracked_columns(instance: Any):
    try:
        mapper = object_mapper(instance)
    except UnmappedInstanceError:
        return []
    return [prop for prop in mapper.column_attrs if prop.key not in UNTRACKED_FIELDS]


def _created(instance: Any) -> tuple[FieldChange, ...]:
    changes = []
    for prop in _tracked_columns(instance):
        value = getattr(instance, prop.key)
        if value is not None:
            changes.append(FieldChange(prop.key, None, change_value(value)))
    return tuple(changes)


def _updated(instance: Any) -> tuple[FieldChange, ...]:
    changes = []
    for prop in _tracked_columns(instance):
        history = attributes.get_history(instance, prop.key, passive=attributes.PASSIVE_NO_INITIALIZE)
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if change_value(old) != change_value(new):
            changes.append(FieldChange(prop.key, change_value(old), change_value(new)))
    return tuple(changes)


def _deleted(instance: Any) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(prop.key, change_value(getattr(instance, prop.key)), None)
        for prop in _tracked_columns(instance)
        if getattr(instance, prop.key) is not None
    )


def _pending(session: Session) -> list[RecordChange]:
    return session.info.setdefault(_PENDING_KEY, [])


def _collect_flushed_changes(session: Session, flush_context) -> None:
    """after_flush: the session still knows what the flush wrote, with old values."""
    if not has_app_context():
        return
    pending = _pending(session)
    groups = (
        ("create", session.new, _created),
        ("update", session.dirty, _updated),
        ("delete", session.deleted, _deleted),
    )
    for operation, instances, describe in groups:
        for instance in instances:
            record_type = _record_type_of(instance)
            if record_type is None:
                continue
            changes = describe(instance)
            if operation == "update" and not changes:
                continue
            pending.append(RecordChange(record_type.name, instance.id, instance.display_name, operation, changes))


def _dispatch_pending(session: Session, *args: Any) -> None:
    """after_flush_postexec and before_commit: hand collected events to the hook."""
    if not has_app_context():
        return
    pending = session.info.pop(_PENDING_KEY, None)
    if pending:
        dispatch(
            session,
            ChangeSet(actor=current_actor(), at=utcnow(), context=_current_context.get(), records=tuple(pending)),
        )


def _discard_pending(session: Session, *args: Any) -> None:
    session.info.pop(_PENDING_KEY, None)


def dispatch(session: Session | scoped_session[Any], change_set: ChangeSet) -> None:
    """Call the ``opiekun_records_changed`` hook of every enabled plugin."""
    current_app.extensions["opiekun.plugins"].records_changed(session, change_set)


def record_event(session: Session, change: RecordChange) -> None:
    """Add an event that no column change expresses (``relation_added``, ``anonymize``…).

    It is dispatched with the next flush or at commit, in the same transaction.
    """
    _pending(session).append(change)


_listeners_installed = False


def install_listeners() -> None:
    """Attach the change-stream listeners to every SQLAlchemy session (once per process)."""
    global _listeners_installed
    if _listeners_installed:
        return
    event.listen(Session, "after_flush", _collect_flushed_changes)
    event.listen(Session, "after_flush_postexec", _dispatch_pending)
    event.listen(Session, "before_commit", _dispatch_pending)
    event.listen(Session, "after_rollback", _discard_pending)
    event.listen(Session, "after_soft_rollback", _discard_pending)
    _listeners_installed = True


# --- set-based changes -------------------------------------------------------------------


def begin_writing(session: Session | scoped_session[Any]) -> None:
    """Take the database's write lock now on SQLite, which has no row locks: ``BEGIN
    IMMEDIATE`` unless this transaction writes already. What the transaction reads
    afterwards cannot change under it before it commits. (PostgreSQL needs no such thing:
    the changes lock the rows they read with ``FOR UPDATE``.)"""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]  # a live connection has one
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_batch_numbers = itertools.count(1)


class RecordBatch:
    """A temporary table of records for one set-based change, and the events about them.

    Its rows are what a :class:`BulkChange` reads: ``object_id``, ``object_name`` and an
    ``old_<field>`` column for each field in ``old_fields`` (name: SQL type). Fill it with
    ``INSERT … SELECT`` (:meth:`add_records`, :meth:`add`), change the records in SQL, then
    :meth:`announce` the change: one event per record, in one call of the
    ``opiekun_records_changed`` hook. Use it as a context manager: the table exists inside
    the ``with`` block only::

        with RecordBatch(db.session, {"user_id": Integer}) as batch:
            batch.add_records(Contract, Contract.id.in_(ids))
            ...  # INSERT … SELECT the new rows, reading batch.ids
            batch.announce("contract", "owner_assigned", {"user_id": 7})

    (:func:`update_records` does all of this for an ``UPDATE`` of the records' own columns.)
    """

    def __init__(self, session: Session | scoped_session[Any], old_fields: Mapping[str, Any] | None = None):
        self.session = session
        self.old_fields = dict(old_fields or {})
        columns: list[Column[Any]] = [
            Column("object_id", Integer, primary_key=True),
            Column("object_name", String(500)),
        ]
        columns += [Column(f"old_{name}", kind) for name, kind in self.old_fields.items()]
        self.table = Table(f"opiekun_change_batch_{next(_batch_numbers)}", MetaData(), *columns, prefixes=["TEMPORARY"])

    def __enter__(self) -> RecordBatch:
        self.table.create(self.session.connection())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.table.drop(self.session.connection())

    @property
    def ids(self) -> Select[Any]:
        """A SELECT of the batch's record ids (for ``… WHERE id IN (batch.ids)``)."""
        return select(self.table.c.object_id)

    def add(self, source: Select[Any], old_fields: Sequence[str] = ()) -> int:
        """Insert the rows ``source`` selects: the record's id, its display name, then the
        old value of each of ``old_fields``, in that order. Returns :meth:`count`."""
        columns = ["object_id", "object_name", *(f"old_{name}" for name in old_fields)]
        self.session.execute(insert(self.table).from_select(columns, source))
        return self.count()

    def add_records(self, model: Any, condition: Any) -> int:
        """Insert the records of ``model`` matching ``condition`` (no old values). Returns
        :meth:`count`."""
        return self.add(select(model.id, model.display_name_expression()).where(condition))

    def count(self) -> int:
        """How many records the batch holds."""
        return self.session.scalar(select(func.count()).select_from(self.table)) or 0

    def discard(self, condition: Any) -> int:
        """Remove the records matching ``condition`` (on ``self.table.c.object_id``);
        returns how many."""
        return self.session.execute(delete(self.table).where(condition)).rowcount  # type: ignore[attr-defined]

    def announce(
        self,
        object_type: str,
        operation: str,
        new_values: Mapping[str, Any],
        at: dt.datetime | None = None,
        count: int | None = None,
    ) -> int:
        """Hand the batch's records to the ``opiekun_records_changed`` hook as one
        :class:`BulkChange` (``operation`` on ``object_type``, to ``new_values``), with the
        current actor and change context; nothing when the batch is empty. ``at``: when
        (default now); ``count``: the number of records when the caller knows it already.
        Returns the number of records."""
        count = self.count() if count is None else count
        if count:
            bulk = BulkChange(object_type, operation, self.table, dict(new_values), count)
            dispatch(
                self.session,
                ChangeSet(actor=current_actor(), at=at or utcnow(), context=current_context(), bulk=(bulk,)),
            )
        return count


def update_records(
    session: Session | scoped_session[Any],
    model: type[Any],
    where: Any,
    values: Mapping[str, Any],
    operation: str = "update",
) -> int:
    """``UPDATE model SET values WHERE where``, with change events, in set-based SQL.

    Rows that already hold the new values are left alone. Returns how many records
    changed. ``operation`` names the events (default ``update``; ``anonymize`` when
    personal data is replaced, so consumers can tell it from an ordinary edit).

    The statements are: one ``INSERT … SELECT … FOR UPDATE`` of the old values into a
    temporary table (the rows stay locked until the transaction ends, so no concurrent
    change slips in between), one ``UPDATE`` joined to it, the hook (which may copy the rows with
    ``INSERT … SELECT``), and dropping the temporary table.
    """
    record_type = current_app.extensions["opiekun.record_types"].for_model(model)
    if record_type is None:
        raise ValueError(f"{model.__name__} is not a registered record type")
    if not values:
        return 0
    session.flush()
    begin_writing(session)
    table: Table = model.__table__
    field_names = list(values)
    differs = or_(*(table.c[name].is_distinct_from(value) for name, value in values.items()))
    try:
        with RecordBatch(session, {name: table.c[name].type for name in field_names}) as batch:
            source = (
                select(
                    table.c.id,
                    model.display_name_expression(),
                    *(table.c[name] for name in field_names),
                )
                .where(where, differs)
                .order_by(table.c.id)
                .with_for_update(of=table)
            )  # old values stay true until the UPDATE
            count = batch.add(source, field_names)
            if count:
                session.execute(
                    update(table)
                    .where(table.c.id.in_(batch.ids))
                    .values({**values, "updated_at": utcnow()})
                    .execution_options(synchronize_session=False)
                )
                batch.announce(record_type.name, operation, values, count=count)
            return count
    finally:
        # objects already in the session would otherwise keep showing the old values
        session.expire_all()
