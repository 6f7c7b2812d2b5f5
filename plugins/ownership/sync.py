"""A record's ``owner_id`` is always the primary in force today:

* the plugin changes ``owner_id`` itself (through :func:`opiekun.changes.update_records`,
  so the change stream carries the old and new owner) when an assignment in force today
  is added, changed or removed (:func:`sync_owners`);
* an owner change made elsewhere (record forms, the core API, offboarding) reaches
  :func:`follow_owner_changes` through the change-stream hook (:func:`on_records_changed`):
  the current primary period ends yesterday and a new one starts today;
* the daily job :func:`apply_periods` catches up with periods that start or end on later days.

Records that had an owner before the plugin was on get their first period on the way
(:func:`backfill_assignments`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, and_, delete, exists, func, insert, literal, not_, null, select, true
from sqlalchemy.orm import Session

from opiekun.plugin import ChangeSet, RecordType, change_context, db, record_types, update_records, utcnow
from opiekun.plugins.ownership.models import OwnerAssignment
from opiekun.plugins.ownership.periods import PERIOD_COLUMNS, assignments_table, end_periods, in_force, today
from opiekun.plugins.ownership.settings import owner_roles

#: Context flag of owner_id changes the plugin makes itself (its own hook ignores them).
SYNC_FLAG = "ownership_sync"


def backfill_assignments(record_type: RecordType, condition) -> int:
    """Records that have an owner but no primary period at all (made before the plugin was
    on, or written around the ORM) get one, from the day they were created, indefinite."""
    model = record_type.model
    has_period = exists().where(
        assignments_table.c.object_type == record_type.name,
        assignments_table.c.object_id == model.id,
        assignments_table.c.kind == "primary",
    )
    default_role = owner_roles()[0]
    source = select(
        literal(record_type.name, String),
        model.id,
        model.owner_id,
        literal("primary", String),
        literal(default_role, String),
        func.date(model.created_at),
        literal("write", String),
        literal(utcnow(), OwnerAssignment.created_at.type),
    ).where(condition, model.owner_id.is_not(None), not_(has_period))
    columns = ["object_type", "object_id", "user_id", "kind", "role", "valid_from", "access", "created_at"]
    # counted first: an INSERT … SELECT's rowcount is -1 through psycopg
    count = db.session.scalar(select(func.count()).select_from(source.subquery()))
    if count:
        db.session.execute(insert(assignments_table).from_select(columns, source))
    return count


def sync_owners(record_type: RecordType, condition=None, day: dt.date | None = None, backfill: bool = True) -> int:
    """Set ``owner_id`` of the records matching ``condition`` to their primary in force on
    ``day`` (default today), or to nobody where no period is in force; one set-based
    update per new owner. Returns how many records changed."""
    day = day or today()
    model = record_type.model
    condition = true() if condition is None else condition
    if backfill:
        backfill_assignments(record_type, condition)
    current = and_(
        assignments_table.c.object_type == record_type.name, assignments_table.c.kind == "primary", in_force(day)
    )
    new_owners = db.session.scalars(
        select(assignments_table.c.user_id)
        .distinct()
        .join(model, model.id == assignments_table.c.object_id)
        .where(current, condition, model.owner_id.is_distinct_from(assignments_table.c.user_id))
    )
    changed = 0
    with change_context(**{SYNC_FLAG: True}):
        for user_id in list(new_owners):
            held = select(assignments_table.c.object_id).where(current, assignments_table.c.user_id == user_id)
            changed += update_records(db.session, model, and_(condition, model.id.in_(held)), {"owner_id": user_id})
        orphaned = and_(
            condition,
            model.owner_id.is_not(None),
            not_(exists().where(current, assignments_table.c.object_id == model.id)),
        )
        changed += update_records(db.session, model, orphaned, {"owner_id": None})
    return changed


def _day_before(column):
    """SQL: the day before the date ``column``."""
    if db.engine.dialect.name == "sqlite":
        return func.date(column, "-1 day")
    return column - 1


def follow_owner_changes(
    session: Session,
    record_type: RecordType,
    ids,
    new_owner_id: int | None,
    actor_id: int | None,
    created: bool = False,
) -> None:
    """An owner change made outside this plugin (a record form, the core API, offboarding):
    the primary period in force ends yesterday (or disappears if it began today) and, with
    a new owner, a new period starts today and runs until the next planned period.

    ``ids`` is a one-column SELECT of the records' ids (a bulk change's rows, or one id).
    ``created``: the records are new, so they have no periods to end or plans to wait for;
    only their first period is written. (Looking for periods of 10,000 new records at a
    time, with the statistics of a table filled in the same transaction, read every period
    begun that day: ``opiekun demo`` slowed with every chunk.)
    """
    day = today()
    if not created:
        end_periods(
            session,
            and_(
                assignments_table.c.object_type == record_type.name,
                assignments_table.c.object_id.in_(ids),
                assignments_table.c.kind == "primary",
                in_force(day),
            ),
            day,
        )
    if new_owner_id is None:
        return
    records = ids.subquery()
    object_id = records.c[0]
    planned = and_(
        assignments_table.c.object_type == record_type.name,
        assignments_table.c.kind == "primary",
        assignments_table.c.valid_from > day,
    )
    valid_to = null()
    if not created and session.scalar(
        select(exists().where(planned, assignments_table.c.object_id.in_(ids)))
    ):  # rare: look each record's up
        later = assignments_table.alias("later")
        valid_to = _day_before(
            select(func.min(later.c.valid_from))
            .where(
                later.c.object_type == record_type.name,
                later.c.object_id == object_id,
                later.c.kind == "primary",
                later.c.valid_from > day,
            )
            .scalar_subquery()
        )
    source = select(
        literal(record_type.name, String),
        object_id,
        literal(new_owner_id, Integer),
        literal("primary", String),
        literal(owner_roles()[0], String),
        literal(day, Date),
        valid_to,
        literal("write", String),
        literal(actor_id, Integer) if actor_id else null(),
        literal(utcnow(), OwnerAssignment.created_at.type),
    )
    session.execute(insert(assignments_table).from_select(PERIOD_COLUMNS, source))


def on_records_changed(session: Session, change_set: ChangeSet) -> None:
    """The change-stream hook: follow owner changes made elsewhere; forget the periods of
    deleted records; start the first period of new records."""
    if change_set.context.get(SYNC_FLAG):
        return
    registry = record_types()
    actor_id = change_set.actor.user_id
    for change in change_set.records:
        record_type = registry.get(change.object_type)
        if record_type is None:
            continue
        if change.operation == "delete":
            session.execute(
                delete(assignments_table).where(
                    assignments_table.c.object_type == record_type.name,
                    assignments_table.c.object_id == change.object_id,
                )
            )
            continue
        owner_change = next((field for field in change.changes if field.field == "owner_id"), None)
        if change.operation in ("create", "update") and owner_change is not None:
            one = select(literal(change.object_id, Integer).label("object_id"))
            follow_owner_changes(
                session, record_type, one, owner_change.new, actor_id, created=change.operation == "create"
            )
    for bulk in change_set.bulk:
        record_type = registry.get(bulk.object_type)
        if record_type is not None and bulk.operation in ("create", "update") and "owner_id" in bulk.new_values:
            follow_owner_changes(
                session,
                record_type,
                select(bulk.rows.c.object_id),
                bulk.new_values["owner_id"],
                actor_id,
                created=bulk.operation == "create",
            )


def apply_periods(day: dt.date | None = None) -> dict[str, int]:
    """Make every record's ``owner_id`` the primary in force on ``day`` (the daily job)."""
    return {record_type.name: sync_owners(record_type, day=day) for record_type in record_types()}
