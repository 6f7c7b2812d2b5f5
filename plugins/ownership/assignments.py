"""Giving records owners: one request assigns a primary owner or a deputy, for a period, to
many records at once (:func:`assign_owners`, all or nothing, set-based); one period is
changed or removed on its own (:func:`change_assignment`, :func:`remove_assignment`). Each
write is announced on the change stream, and ``owner_id`` follows today's primary.

A write that changes a record's owner today is announced once: as the owner change (the
record's update of ``owner_id``, with the old and new owner), without a period event
(``owner_assigned``, ``owner_assignment_changed``, ``owner_unassigned``) beside it, so the
record's history has one entry for one owner change. The periods themselves are in
``ownership_assignments`` (the "Owners" section, the owner on a day, the portfolio).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    update,
)

from opiekun.plugin import (
    Conflict,
    FieldChange,
    Invalid,
    Message,
    RecordBatch,
    RecordChange,
    RecordType,
    Refused,
    User,
    change_context,
    change_value,
    current_actor,
    db,
    get_by_id,
    record_event,
    update_records,
    utcnow,
)
from opiekun.plugins.ownership.lookups import new_owner, record_type_named
from opiekun.plugins.ownership.models import ACCESS_LEVELS, KINDS, OVERLAP_POLICIES, OwnerAssignment
from opiekun.plugins.ownership.periods import (
    PERIOD_COLUMNS,
    PERIOD_EVENT_FIELDS,
    assignments_table,
    check_period,
    overlapping,
    today,
)
from opiekun.plugins.ownership.rights import refused_records, require_owner_change_right
from opiekun.plugins.ownership.settings import owner_roles, settings_for
from opiekun.plugins.ownership.sync import SYNC_FLAG, backfill_assignments, sync_owners
from opiekun.plugins.ownership.targets import listed_ids, lock_records, target_condition

#: How many conflicts a 409 lists (the count is always complete).
LISTED_CONFLICTS = 50


@dataclass(frozen=True)
class AssignmentRequest:
    """What ``POST /api/v1/ownership/assignments`` (and the admin's "Change owner…") asks."""

    object_type: str
    user_id: int
    kind: str = "primary"
    role: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    access: str | None = None
    on_overlap: str = "warn"
    object_ids: Sequence[int] | None = None
    filter: Mapping[str, Any] | None = None
    #: a SQL condition on the record model choosing the records (the admin's "all matching")
    condition: Any = None


@dataclass(frozen=True)
class AssignmentCounts:
    """What :func:`assign_owners` did: records chosen, periods created, records left alone
    (``keep``), earlier periods ended or dropped (``replace``), and records that already
    had what was asked (``unchanged``: nothing written, nothing in their history)."""

    matched: int
    created: int
    skipped: int
    replaced: int
    unchanged: int = 0


def check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    """``value`` must be one of ``allowed`` (422 naming ``field`` otherwise)."""
    if value not in allowed:
        raise Invalid(
            Message("%(field)s is not in the list", field=field),
            {field: Message("%(value)r is not one of: %(allowed)s", value=value, allowed=", ".join(allowed))},
        )


def assign_owners(request: AssignmentRequest, user: User | None) -> AssignmentCounts:
    """Give the chosen records an owner (primary or deputy) for a period, all or nothing.

    ``on_overlap`` decides what happens where the new period meets an existing one (a
    primary period of any user; for a deputy, the same user's deputy period): ``keep``
    leaves those records alone, ``warn`` refuses the whole request (409 listing the
    conflicts), ``replace`` ends the earlier period the day before ``valid_from`` (and drops
    or shortens later periods that the new one covers).
    """
    record_type = record_type_named(request.object_type)
    role, access = _checked_choices(request)
    valid_from = request.valid_from or today()
    check_period(valid_from, request.valid_to)
    owner = new_owner(request.user_id)
    require_owner_change_right(user, record_type)
    condition = _records_user_may_change(record_type, request, user)
    backfill_assignments(record_type, condition)
    with RecordBatch(db.session, PERIOD_EVENT_FIELDS) as batch:
        matched = batch.add_records(record_type.model, condition)
        if matched == 0:
            return AssignmentCounts(0, 0, 0, 0)
        lock_records(record_type, batch.ids)
        already = _same_period_covering(
            record_type.name, request.kind, owner.id, role, access, valid_from, request.valid_to
        )
        unchanged = batch.discard(exists().where(assignments_table.c.object_id == batch.table.c.object_id, already))
        if unchanged == matched:
            return AssignmentCounts(matched, 0, 0, 0, unchanged)
        clash = _clashing(record_type.name, request.kind, owner.id, valid_from, request.valid_to, batch)
        skipped = replaced = 0
        if request.on_overlap == "warn":
            _refuse_conflicts(record_type, clash)
        elif request.on_overlap == "keep":
            skipped = batch.discard(batch.table.c.object_id.in_(select(assignments_table.c.object_id).where(clash)))
        else:
            replaced = _make_room(clash, valid_from, request.valid_to)
        if request.kind == "deputy":
            _require_primaries(record_type, batch, valid_from, request.valid_to)
        created = _insert_assignments(
            record_type,
            batch,
            owner.id,
            request.kind,
            role,
            valid_from,
            request.valid_to,
            access,
            user.id if user else current_actor().user_id,
        )
        if request.kind == "primary":
            _follow_new_primary(record_type, batch, owner.id, valid_from, request.valid_to, replaced)
    return AssignmentCounts(matched, created, skipped, replaced, unchanged)


def _checked_choices(request: AssignmentRequest) -> tuple[str, str]:
    """The request's kind, overlap policy, role and access must be in their lists (a
    primary owner always has write access); returns the role and access, defaults filled in."""
    check_choice("kind", request.kind, KINDS)
    check_choice("on_overlap", request.on_overlap, OVERLAP_POLICIES)
    role = request.role or owner_roles()[0]
    check_choice("role", role, owner_roles())
    access = request.access or "write"
    check_choice("access", access, ACCESS_LEVELS)
    if request.kind == "primary" and access != "write":
        raise Invalid(
            Message("a primary owner always has write access"),
            {"access": Message("only deputies may have read access")},
        )
    return role, access


def _records_user_may_change(record_type: RecordType, request: AssignmentRequest, user: User | None):
    """The SQL condition choosing the request's records; 403 when ``user`` may not change
    the owners of some of them."""
    if request.condition is not None:
        condition = request.condition
    else:
        condition = target_condition(record_type, request.object_ids, request.filter)
    refused = refused_records(user, record_type, condition)
    if refused:
        raise Refused(
            Message(
                "you may not change some of these %(types)s: they belong to other users",
                types=record_type.label_plural.lower(),
            ),
            {"object_ids": Message("not yours: %(ids)s", ids=listed_ids(refused))},
        )
    return condition


def _in_force_today(valid_from: dt.date, valid_to: dt.date | None) -> bool:
    """Whether a period of these days is in force today."""
    return valid_from <= today() and (valid_to is None or valid_to >= today())


def _follow_new_primary(
    record_type: RecordType,
    batch: RecordBatch,
    owner_id: int,
    valid_from: dt.date,
    valid_to: dt.date | None,
    replaced: int,
) -> None:
    """The batch's records get the new primary as ``owner_id`` if the period is in force
    today; a period of later days that replaced today's may leave them without owner."""
    model = record_type.model
    if _in_force_today(valid_from, valid_to):
        with change_context(**{SYNC_FLAG: True}):
            update_records(db.session, model, model.id.in_(batch.ids), {"owner_id": owner_id})
    elif replaced:
        sync_owners(record_type, model.id.in_(batch.ids))


def _same_period_covering(
    object_type: str, kind: str, user_id: int, role: str, access: str, valid_from: dt.date, valid_to: dt.date | None
):
    """SQL: a period of the same user, kind, role and access that already covers every day
    of ``valid_from … valid_to`` (asking for it again is a no-op)."""
    covers_the_end = (
        assignments_table.c.valid_to.is_(None)
        if valid_to is None
        else or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to >= valid_to)
    )
    return and_(
        assignments_table.c.object_type == object_type,
        assignments_table.c.kind == kind,
        assignments_table.c.user_id == user_id,
        assignments_table.c.role == role,
        assignments_table.c.access == access,
        assignments_table.c.valid_from <= valid_from,
        covers_the_end,
    )


def _clashing(
    object_type: str, kind: str, user_id: int, valid_from: dt.date, valid_to: dt.date | None, batch: RecordBatch
):
    """Existing periods the new one would meet, on the batch's records."""
    if kind == "primary":
        same_kind = assignments_table.c.kind == "primary"
    else:
        same_kind = and_(assignments_table.c.kind == "deputy", assignments_table.c.user_id == user_id)
    return and_(
        assignments_table.c.object_type == object_type,
        assignments_table.c.object_id.in_(batch.ids),
        same_kind,
        overlapping(valid_from, valid_to),
    )


def _refuse_conflicts(record_type: RecordType, clash) -> None:
    """``warn``: 409 listing the first conflicting periods (``clash``) and counting them all."""
    count = db.session.scalar(select(func.count()).select_from(assignments_table).where(clash))
    if not count:
        return
    rows = db.session.execute(
        select(assignments_table)
        .where(clash)
        .order_by(assignments_table.c.object_id, assignments_table.c.valid_from)
        .limit(LISTED_CONFLICTS)
    ).all()
    conflicts = [
        {
            "assignment_id": row.id,
            "object_id": row.object_id,
            "user_id": row.user_id,
            "kind": row.kind,
            "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        }
        for row in rows
    ]
    raise Conflict(
        Message(
            "%(count)s existing period(s) overlap the new one; nothing was changed "
            "(send on_overlap 'keep' or 'replace')",
            count=count,
        ),
        {"on_overlap": Message("%(count)s conflict(s) with existing periods", count=count)},
        details={"conflicts": conflicts, "conflict_count": count},
    )


def _make_room(clash, valid_from: dt.date, valid_to: dt.date | None) -> int:
    """``replace``: earlier periods end the day before ``valid_from``; later ones that the
    new period covers are dropped, those reaching beyond it start the day after it."""
    session = db.session
    day_before = valid_from - dt.timedelta(days=1)
    earlier = and_(clash, assignments_table.c.valid_from < valid_from)
    later = and_(clash, assignments_table.c.valid_from >= valid_from)
    changed = session.execute(update(assignments_table).where(earlier).values(valid_to=day_before)).rowcount
    if valid_to is None:
        changed += session.execute(delete(assignments_table).where(later)).rowcount
    else:
        reaching_beyond = or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to > valid_to)
        changed += session.execute(delete(assignments_table).where(later, not_(reaching_beyond))).rowcount
        changed += session.execute(
            update(assignments_table).where(later, reaching_beyond).values(valid_from=valid_to + dt.timedelta(days=1))
        ).rowcount
    return changed


def _require_primaries(
    record_type: RecordType, batch: RecordBatch, valid_from: dt.date, valid_to: dt.date | None
) -> None:
    """A deputy stands in for a primary owner: each record needs a primary period that
    meets the deputy's period."""
    has_primary = exists().where(
        assignments_table.c.object_type == record_type.name,
        assignments_table.c.object_id == batch.table.c.object_id,
        assignments_table.c.kind == "primary",
        overlapping(valid_from, valid_to),
    )
    lonely = list(
        db.session.scalars(
            select(batch.table.c.object_id).where(not_(has_primary)).order_by(batch.table.c.object_id).limit(21)
        )
    )
    if lonely:
        raise Invalid(
            Message("a deputy needs a primary owner in that period"),
            {
                "kind": Message(
                    "no primary owner in that period for %(type)s %(ids)s; assign one first",
                    type=record_type.name,
                    ids=listed_ids(lonely),
                )
            },
        )


def _insert_assignments(
    record_type: RecordType,
    batch: RecordBatch,
    user_id: int,
    kind: str,
    role: str,
    valid_from: dt.date,
    valid_to: dt.date | None,
    access: str,
    created_by_id: int | None,
) -> int:
    """One ``INSERT … SELECT`` of the new periods, and their ``owner_assigned`` events
    (:func:`_announce_new_periods`). Returns how many periods were written."""
    session = db.session
    now = utcnow()
    source = select(
        literal(record_type.name, String),
        batch.table.c.object_id,
        literal(user_id, Integer),
        literal(kind, String),
        literal(role, String),
        literal(valid_from, Date),
        literal(valid_to, Date) if valid_to else null(),
        literal(access, String),
        literal(created_by_id, Integer) if created_by_id else null(),
        literal(now, OwnerAssignment.created_at.type),
    )
    session.execute(insert(assignments_table).from_select(PERIOD_COLUMNS, source))
    values = {
        "user_id": user_id,
        "kind": kind,
        "role": role,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "access": access,
    }
    _announce_new_periods(record_type, batch, values, now)
    return batch.count()


def _announce_new_periods(
    record_type: RecordType, batch: RecordBatch, values: Mapping[str, Any], at: dt.datetime
) -> None:
    """``owner_assigned`` events for the batch's new periods (``values``), but for the
    records whose owner a primary period in force today changes: their owner change, made
    next (:func:`_follow_new_primary`), is what the change stream tells of them. Read before
    that change, on the locked records; the batch keeps every record for it."""
    if values["kind"] != "primary" or not _in_force_today(values["valid_from"], values["valid_to"]):
        batch.announce(record_type.name, "owner_assigned", values, at=at)
        return
    model = record_type.model
    with RecordBatch(db.session, PERIOD_EVENT_FIELDS) as keeping_their_owner:
        keeping_their_owner.add_records(model, and_(model.id.in_(batch.ids), model.owner_id == values["user_id"]))
        keeping_their_owner.announce(record_type.name, "owner_assigned", values, at=at)


def _require_right_on(assignment: OwnerAssignment, user: User | None) -> tuple[RecordType, Any]:
    """The period's record type and record, if ``user`` may change the record's owners
    (403 otherwise; 404 when the record is gone)."""
    record_type = record_type_named(assignment.object_type)
    require_owner_change_right(user, record_type)
    record = get_by_id(
        record_type.model,
        assignment.object_id,
        Message("the %(type)s of this assignment no longer exists", type=record_type.name),
    )
    if refused_records(user, record_type, record_type.model.id == record.id):
        raise Refused(Message("you may not change this %(type)s: it belongs to another user", type=record_type.name))
    return record_type, record


def _describe(assignment: OwnerAssignment) -> dict[str, Any]:
    """The period's values that its change events carry."""
    return {name: getattr(assignment, name) for name in PERIOD_EVENT_FIELDS}


def change_assignment(assignment: OwnerAssignment, values: Mapping[str, Any], user: User | None) -> OwnerAssignment:
    """Change one period (user, role, dates, access). A primary period may not come to
    overlap another primary period of the record (409); a deputy still needs a primary."""
    record_type, record = _require_right_on(assignment, user)
    lock_records(record_type, record.id)
    db.session.refresh(assignment)
    before = _describe(assignment)
    _refuse_nulls(values)
    if "user_id" in values:
        new_owner(values["user_id"])
    if "role" in values:
        check_choice("role", values["role"], owner_roles())
    if "access" in values:
        check_choice("access", values["access"], ACCESS_LEVELS)
        if assignment.kind == "primary" and values["access"] != "write":
            raise Invalid(
                Message("a primary owner always has write access"),
                {"access": Message("only deputies may have read access")},
            )
    valid_from = values.get("valid_from", assignment.valid_from)
    valid_to = values.get("valid_to", assignment.valid_to)
    check_period(valid_from, valid_to)
    _require_room_for(assignment, valid_from, valid_to)
    for field, value in values.items():
        setattr(assignment, field, value)
    db.session.flush()
    after = _describe(assignment)
    changes = tuple(
        FieldChange(name, change_value(before[name]), change_value(after[name]))
        for name in before
        if before[name] != after[name]
    )
    owner_changed = _follow_primary_periods(record_type, record, assignment)
    _announce_period_write(record_type, record, "owner_assignment_changed", changes, owner_changed)
    return assignment


def _follow_primary_periods(record_type: RecordType, record: Any, assignment: OwnerAssignment) -> bool:
    """After a write of one of the record's periods: its ``owner_id`` follows the primary in
    force today (a deputy's period changes no owner). Returns whether the owner changed."""
    if assignment.kind != "primary":
        return False
    return bool(sync_owners(record_type, record_type.model.id == record.id, backfill=False))


def _announce_period_write(
    record_type: RecordType, record: Any, operation: str, changes: tuple[FieldChange, ...], owner_changed: bool
) -> None:
    """The period event of a write of one period (``operation``, the period's ``changes``),
    unless the write changed the record's owner today: that owner change tells it."""
    if changes and not owner_changed:
        record_event(db.session, RecordChange(record_type.name, record.id, record.display_name, operation, changes))


def _require_room_for(assignment: OwnerAssignment, valid_from: dt.date, valid_to: dt.date | None) -> None:
    """The period's new dates: a primary period may not overlap another primary period of
    the record (409); a deputy period needs a primary period that it meets (422)."""
    others = and_(
        assignments_table.c.object_type == assignment.object_type,
        assignments_table.c.object_id == assignment.object_id,
        assignments_table.c.id != assignment.id,
        overlapping(valid_from, valid_to),
        assignments_table.c.kind == "primary",
    )
    if assignment.kind == "primary":
        clash = db.session.execute(
            select(assignments_table.c.id, assignments_table.c.valid_from, assignments_table.c.valid_to)
            .where(others)
            .limit(1)
        ).first()
        if clash is not None:
            raise Conflict(
                Message("the period would overlap another primary period of the record"),
                {
                    "valid_from": Message(
                        "overlaps assignment %(id)s (%(start)s … %(end)s)",
                        id=clash.id,
                        start=clash.valid_from,
                        end=clash.valid_to or "indefinite",
                    )
                },
            )
    elif not db.session.scalar(select(exists().where(others))):
        raise Invalid(
            Message("a deputy needs a primary owner in that period"),
            {"kind": Message("no primary owner in that period")},
        )


#: The fields of a period that always have a value (only ``valid_to`` may be null: indefinite).
REQUIRED_PERIOD_FIELDS = ("user_id", "role", "access", "valid_from")


def _refuse_nulls(values: Mapping[str, Any]) -> None:
    """A change may not empty a field every period needs (422 naming each such field)."""
    nulls = [field for field in REQUIRED_PERIOD_FIELDS if field in values and values[field] is None]
    if nulls:
        raise Invalid(
            Message("a period needs a user, a role, an access level and a first day"),
            {field: Message("must not be null") for field in nulls},
        )


def remove_assignment(assignment: OwnerAssignment, user: User | None) -> None:
    """Delete one period. The primary in force today of a type that requires an owner
    cannot be removed (assign another owner instead)."""
    record_type, record = _require_right_on(assignment, user)
    if (
        assignment.kind == "primary"
        and assignment.in_force_on(today())
        and settings_for(record_type.name).owner_required
    ):
        raise Conflict(
            Message(
                "%(types)s require an owner; assign another owner instead of removing this one",
                types=record_type.label_plural.lower(),
            ),
            {"owner_id": Message("an owner is required")},
        )
    changes = tuple(
        FieldChange(name, change_value(value), None)
        for name, value in _describe(assignment).items()
        if value is not None
    )
    db.session.delete(assignment)
    db.session.flush()
    owner_changed = _follow_primary_periods(record_type, record, assignment)
    _announce_period_write(record_type, record, "owner_unassigned", changes, owner_changed)
