"""The rules of ownership, in one place: the API, the admin, the jobs and the hooks all come
here, so they cannot disagree.

Vocabulary: an *assignment* is one period (``valid_from`` … ``valid_to``, both days
included, no end = indefinite) during which a user looks after a record as its *primary*
owner or as a *deputy*. A record's ``owner_id`` is always the primary in force today:

* the services change ``owner_id`` themselves (through :func:`opiekun.changes.update_records`,
  so the change stream carries the old and new owner) when an assignment in force today
  is added, changed or removed;
* an owner change made elsewhere (record forms, the core API, offboarding) reaches
  :func:`follow_owner_changes` through the change-stream hook: the current primary period
  ends yesterday and a new one starts today;
* the daily job :func:`apply_periods` catches up with periods that start or end on later days.

Work over many records is set-based: target ids go into a temporary table with one
``INSERT … SELECT``; periods are ended, inserted and announced with statements joined to it.
"""
from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from opiekun.api.errors import Conflict, Forbidden, Invalid, Message, NotFound
from opiekun.changes import BulkChange, ChangeSet, FieldChange, RecordChange, change_context, change_value, current_actor, current_context, dispatch, record_event, update_records
from opiekun.extensions import db
from opiekun.models import Notification, Setting, User, utcnow
from opiekun.permissions import has_permission, role_exists
from opiekun.plugins.ownership.models import ACCESS_LEVELS, DEFAULT_ROLES, KINDS, OVERLAP_POLICIES, OwnerAssignment, OwnerHandover, OwnershipSettings
from opiekun.record_types import RecordType, RecordTypeRegistry, record_types
from opiekun.user_items import in_share, records_to_move

#: The most record ids one request may name; larger sets are chosen by filter.
MAX_IDS = 10_000
#: Context flag of owner_id changes the plugin makes itself (its own hook ignores them).
SYNC_FLAG = "ownership_sync"
ROLES_SETTING = "ownership.roles"
#: Read by the core's owner filters (opiekun.admin.filters) and by ownership's reports.
SHOW_DEPARTED_SETTING = "owner_filters.show_departed"
#: How many conflicts a 409 lists (the count is always complete).
LISTED_CONFLICTS = 50

A = OwnerAssignment.__table__
H = OwnerHandover.__table__
#: The columns a new period is written with (``INSERT … SELECT``), in this order.
PERIOD_COLUMNS = ("object_type", "object_id", "user_id", "kind", "role", "valid_from", "valid_to", "access", "created_by_id",
                  "created_at")


def today() -> dt.date:
    """Ownership days are UTC days, like every date the API stores."""
    return utcnow().date()


# --- options and settings -----------------------------------------------------------------


def _setting(key: str, default: Any) -> Any:
    row = db.session.get(Setting, key)
    return default if row is None or row.value is None else row.value


def _store_setting(key: str, value: Any) -> None:
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value


def owner_roles() -> list[str]:
    """The configurable list of owner roles (sales, legal…)."""
    return list(_setting(ROLES_SETTING, list(DEFAULT_ROLES)))


def show_departed_users() -> bool:
    """Whether owner filters and reports list users who have left (as "departed: name (email)")."""
    return bool(_setting(SHOW_DEPARTED_SETTING, True))


def update_options(roles: Sequence[str] | None = None, show_departed: bool | None = None) -> None:
    if roles is not None:
        cleaned = list(dict.fromkeys(role.strip() for role in roles if role.strip()))
        if not cleaned:
            raise Invalid(Message("the list of owner roles cannot be empty"), {"roles": Message("name at least one role")})
        _store_setting(ROLES_SETTING, cleaned)
    if show_departed is not None:
        _store_setting(SHOW_DEPARTED_SETTING, bool(show_departed))
    db.session.flush()


def settings_for(object_type: str) -> OwnershipSettings:
    """The settings of a record type (defaults when never saved: owner optional, no
    release, everyone may change owners)."""
    row = db.session.get(OwnershipSettings, object_type)
    return row if row is not None else OwnershipSettings(object_type=object_type, owner_required=False,
                                                         inactivity_days=None, change_roles=None)


def update_settings(object_type: str, values: Mapping[str, Any]) -> OwnershipSettings:
    record_type_named(object_type, status=404)
    if "change_roles" in values and values["change_roles"] is not None:
        unknown = [role for role in values["change_roles"] if not role_exists(role)]
        if unknown:
            raise Invalid(Message("unknown roles"), {"change_roles": Message("no role %(roles)s", roles=", ".join(map(repr, unknown)))})
        values = {**values, "change_roles": list(dict.fromkeys(values["change_roles"]))}
    if "change_roles" in values:
        _require_no_own_widening(acting_user(), object_type, values["change_roles"])
    if values.get("owner_required") is None and "owner_required" in values:
        raise Invalid(Message("owner_required must be true or false"), {"owner_required": Message("must not be null")})
    row = db.session.get(OwnershipSettings, object_type)
    if row is None:
        row = OwnershipSettings(object_type=object_type, owner_required=False)
        db.session.add(row)
    for field, value in values.items():
        setattr(row, field, value)
    db.session.flush()
    return row


def _require_no_own_widening(user: User | None, object_type: str, change_roles: Sequence[str] | None) -> None:
    """Nobody widens their own role (:mod:`opiekun.privileges`): a holder of
    ``ownership.settings`` whose role may not change owners of the type does not let it."""
    if user is None or user.role == "admin" or may_change_owners(user, object_type):
        return
    if change_roles is None or user.role in change_roles:
        raise Forbidden(Message("nobody lets their own role change owners; an admin does"),
                        {"change_roles": Message("would let your own role (%(role)s) change owners", role=user.role)})


# --- who, what, which records ------------------------------------------------------------


def record_type_named(name: str, *, status: int = 422, field: str = "object_type") -> RecordType:
    record_type = record_types().get(name)
    if record_type is None:
        message = Message("unknown record type %(name)r; known: %(known)s", name=name, known=", ".join(record_types().names()))
        if status == 404:
            raise NotFound(message, {field: Message("unknown record type")})
        raise Invalid(Message("unknown record type"), {field: message})
    return record_type


def new_owner(user_id: int, field: str = "user_id") -> User:
    """The user who is to look after records: must exist and be active."""
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        raise Invalid(Message("unknown user"), {field: Message("no user with id %(id)s", id=user_id)})
    if user.status != "active":
        raise Invalid(Message("the user has departed"),
                      {field: Message("user %(id)s (%(name)s) has departed and cannot own records", id=user_id, name=user.display_name)})
    return user


def may_change_owners(user: User | None, object_type: str) -> bool:
    """The per-type "which roles may change owners" setting (admins always may)."""
    if user is None:
        return True  # jobs and the system
    allowed = settings_for(object_type).change_roles
    return allowed is None or user.role == "admin" or user.role in allowed


def require_owner_change_right(user: User | None, record_type: RecordType) -> None:
    if not may_change_owners(user, record_type.name):
        raise Forbidden(Message("your role (%(role)s) may not change owners of %(types)s; an admin chooses who may in the "
                                "ownership settings", role=user.role, types=record_type.label_plural.lower()))


def only_a_deputy(user: User | None, record_type: RecordType, record_id: int | None, owner_id: int | None) -> bool:
    """``user``'s right to change the record (``owner_id`` owns it now) comes from a deputy
    period alone: not its owner, not a record without owner, no ``records.edit_others``.
    A deputy edits the record; it does not take it over (change its owner) or delete it."""
    if user is None or record_id is None or owner_id in (None, user.id) or has_permission(user, "records.edit_others"):
        return False
    return has_write_deputyship(user.id, record_type.name, record_id)


def require_owner_choice_right(user: User | None, record_type: RecordType, record: Any, operation: str,
                               new_owner_id: int | None, owner_id_before: int | None) -> None:
    """Choosing the record's owner: giving a new record to someone else than oneself, or
    changing the owner of an existing one, needs a role the type's ``change_roles``
    allows; and a deputy does not change the owner of the record it stands in for."""
    if operation == "create":
        if user is not None and new_owner_id != user.id:
            require_owner_change_right(user, record_type)
        return
    require_owner_change_right(user, record_type)
    if only_a_deputy(user, record_type, record.id, owner_id_before):
        raise Forbidden(Message("a deputy edits this %(type)s but does not change its owner; its owner or a manager does",
                                type=record_type.name), {"owner_id": Message("not changed by a deputy")})


def acting_user() -> User | None:
    actor = current_actor()
    return db.session.get(User, actor.user_id) if actor.user_id else None


def in_force(day: dt.date, table=A):
    return and_(table.c.valid_from <= day, or_(table.c.valid_to.is_(None), table.c.valid_to >= day))


def overlapping(valid_from: dt.date, valid_to: dt.date | None, table=A):
    """Periods of ``table`` sharing at least one day with ``valid_from … valid_to``."""
    starts_in_time = table.c.valid_from <= valid_to if valid_to is not None else true()
    return and_(starts_in_time, or_(table.c.valid_to.is_(None), table.c.valid_to >= valid_from))


def deputy_with_write_access(user_id: int, object_type: str, object_id_column, day: dt.date):
    return exists().where(A.c.object_type == object_type, A.c.object_id == object_id_column, A.c.kind == "deputy",
                          A.c.access == "write", A.c.user_id == user_id, in_force(day))


def has_write_deputyship(user_id: int, object_type: str, object_id: int) -> bool:
    return bool(db.session.scalar(select(deputy_with_write_access(user_id, object_type, object_id, today()))))


def refused_records(user: User | None, record_type: RecordType, condition) -> list[int]:
    """Ids among the records matching ``condition`` whose owners ``user`` may not change
    (give them owner periods, change or remove those).

    Set-based for the common rules (own records, records without owner,
    ``records.edit_others``); the few records that fail those go through the core's full
    rule (which asks every plugin), one by one — except that a deputy period gives no such
    right: a deputy edits the record, it does not hand its ownership around.
    """
    if user is None or has_permission(user, "records.edit_others"):
        return []
    model = record_type.model
    suspects = list(db.session.scalars(
        select(model.id).where(condition, model.owner_id.is_not(None), model.owner_id != user.id)
        .order_by(model.id).limit(1001)))
    if not suspects:
        return []
    from opiekun.records import may_change

    judged = suspects[:200]
    deputyships = set(db.session.scalars(
        select(model.id).where(model.id.in_(judged), deputy_with_write_access(user.id, record_type.name, model.id, today()))))
    refused = [record.id for record in db.session.scalars(select(model).where(model.id.in_(judged)).order_by(model.id))
               if record.id in deputyships or not may_change(user, record_type, record, "update")]
    return refused + suspects[200:]


# --- temporary tables of target records -------------------------------------------------------

_batch_numbers = itertools.count(1)


class TargetBatch:
    """A temporary table with one row per target record: ``object_id``, ``object_name``
    and the ``old_*`` columns a :class:`~opiekun.changes.BulkChange` of assignment events
    reads (always empty: a new assignment has no former values)."""

    EVENT_FIELDS = {"user_id": Integer, "kind": String(10), "role": String(50), "valid_from": Date,
                    "valid_to": Date, "access": String(10)}

    def __init__(self, session: Session):
        self.session = session
        columns = [Column("object_id", Integer, primary_key=True), Column("object_name", String(500))]
        columns += [Column(f"old_{name}", kind) for name, kind in self.EVENT_FIELDS.items()]
        self.table = Table(f"ownership_batch_{next(_batch_numbers)}", MetaData(), *columns, prefixes=["TEMPORARY"])

    def __enter__(self) -> "TargetBatch":
        self.table.create(self.session.connection())
        return self

    def __exit__(self, *exc_info) -> None:
        self.table.drop(self.session.connection())

    @property
    def ids(self):
        return select(self.table.c.object_id)

    def fill(self, record_type: RecordType, condition) -> int:
        model = record_type.model
        source = select(model.id, model.display_name_expression()).where(condition)
        self.session.execute(insert(self.table).from_select(["object_id", "object_name"], source))
        return self.count()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(self.table))

    def discard(self, condition) -> int:
        """Remove the records matching ``condition`` (on ``self.table.c.object_id``)."""
        return self.session.execute(delete(self.table).where(condition)).rowcount


def lock_records(record_type: RecordType, ids) -> None:
    """Lock the rows of the records (``ids``: a SELECT of ids, or one id) whose periods are
    about to be written, in id order, until commit: two requests giving periods to one record
    go one after the other, so the second one's overlap check sees the first one's periods.
    (Owner changes through the record itself hold this lock already; SQLite has one writer.)"""
    model = record_type.model
    condition = model.id == ids if isinstance(ids, int) else model.id.in_(ids)
    db.session.execute(select(model.id).where(condition).order_by(model.id).with_for_update())


# --- assigning owners -------------------------------------------------------------------------


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
    matched: int
    created: int
    skipped: int
    replaced: int


def check_period(valid_from: dt.date, valid_to: dt.date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(Message("the period ends before it starts"),
                      {"valid_to": Message("must not be before valid_from (%(day)s)", day=valid_from.isoformat())})


def check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise Invalid(Message("%(field)s is not in the list", field=field),
                  {field: Message("%(value)r is not one of: %(allowed)s", value=value, allowed=", ".join(allowed))})


def _listed(ids: Sequence[int]) -> str:
    """Ids for a refusal: the first 20, then "…" when there are more."""
    return ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")


def target_condition(record_type: RecordType, object_ids: Sequence[int] | None, filter_values: Mapping[str, Any] | None):
    """The SQL condition choosing the records of a request: named ids (all must exist) or
    the same filters as the record list (``owner_id``, ``owner_status``, ``q``, the type's own)."""
    model = record_type.model
    if (object_ids is None) == (filter_values is None):
        raise Invalid(Message("name the records"), {"object_ids": Message("send either object_ids or filter")})
    if object_ids is not None:
        ids = sorted(set(object_ids))
        if not ids:
            raise Invalid(Message("name the records"), {"object_ids": Message("must not be empty")})
        if len(ids) > MAX_IDS:
            raise Invalid(Message("too many ids"), {"object_ids": Message("at most %(count)s ids per request; choose more with filter", count=MAX_IDS)})
        found = set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
        missing = [value for value in ids if value not in found]
        if missing:
            raise NotFound(Message("some %(types)s do not exist", types=record_type.label_plural.lower()),
                           {"object_ids": Message("no %(type)s with id %(ids)s", type=record_type.name, ids=_listed(missing))})
        return model.id.in_(ids)
    return model.id.in_(filter_statement(record_type, filter_values))


def filter_statement(record_type: RecordType, filter_values: Mapping[str, Any]):
    """The ids a record list would show for ``filter_values`` (all pages)."""
    from pydantic import ValidationError, create_model

    from opiekun.api.records import filtered_records
    from opiekun.api.schemas import RecordListQuery

    bases = (RecordListQuery, record_type.api.filters) if record_type.api and record_type.api.filters else (RecordListQuery,)
    query_model = create_model(f"Ownership{record_type.name.title()}Filter", __base__=bases)
    try:
        query = query_model.model_validate(dict(filter_values))
    except ValidationError as error:
        fields = {"filter." + ".".join(str(part) for part in problem["loc"]): problem["msg"] for problem in error.errors()}
        raise Invalid(Message("the filter is not valid"), fields) from None
    if query.page != 1 or query.per_page != 50 or query.sort:
        raise Invalid(Message("the filter is not valid"),
                      {"filter": Message("page, per_page and sort do not apply: the filter covers all pages")})
    return filtered_records(record_type, query).with_only_columns(record_type.model.id).order_by(None)


def assign_owners(request: AssignmentRequest, user: User | None) -> AssignmentCounts:
    """Give the chosen records an owner (primary or deputy) for a period, all or nothing.

    ``on_overlap`` decides what happens where the new period meets an existing one (a
    primary period of any user; for a deputy, the same user's deputy period): ``keep``
    leaves those records alone, ``warn`` refuses the whole request (409 listing the
    conflicts), ``replace`` ends the earlier period the day before ``valid_from`` (and drops
    or shortens later periods that the new one covers).
    """
    record_type = record_type_named(request.object_type)
    check_choice("kind", request.kind, KINDS)
    check_choice("on_overlap", request.on_overlap, OVERLAP_POLICIES)
    role = request.role or owner_roles()[0]
    check_choice("role", role, owner_roles())
    access = request.access or "write"
    check_choice("access", access, ACCESS_LEVELS)
    if request.kind == "primary" and access != "write":
        raise Invalid(Message("a primary owner always has write access"), {"access": Message("only deputies may have read access")})
    valid_from = request.valid_from or today()
    check_period(valid_from, request.valid_to)
    owner = new_owner(request.user_id)
    require_owner_change_right(user, record_type)
    if request.condition is not None:
        condition = request.condition
    else:
        condition = target_condition(record_type, request.object_ids, request.filter)
    refused = refused_records(user, record_type, condition)
    if refused:
        raise Forbidden(Message("you may not change some of these %(types)s: they belong to other users",
                                types=record_type.label_plural.lower()),
                        {"object_ids": Message("not yours: %(ids)s", ids=_listed(refused))})
    session = db.session
    backfill_assignments(record_type, condition)
    with TargetBatch(session) as batch:
        matched = batch.fill(record_type, condition)
        if matched == 0:
            return AssignmentCounts(0, 0, 0, 0)
        lock_records(record_type, batch.ids)
        clash = _clashing(record_type.name, request.kind, owner.id, valid_from, request.valid_to, batch)
        skipped = replaced = 0
        if request.on_overlap == "warn":
            _refuse_conflicts(record_type, clash)
        elif request.on_overlap == "keep":
            skipped = batch.discard(batch.table.c.object_id.in_(select(A.c.object_id).where(clash)))
        else:
            replaced = _make_room(clash, valid_from, request.valid_to)
        if request.kind == "deputy":
            _require_primaries(record_type, batch, valid_from, request.valid_to)
        created = _insert_assignments(record_type, batch, owner.id, request.kind, role, valid_from, request.valid_to,
                                      access, user.id if user else current_actor().user_id)
        if request.kind == "primary":
            if valid_from <= today() and (request.valid_to is None or request.valid_to >= today()):
                with change_context(**{SYNC_FLAG: True}):
                    update_records(session, record_type.model, record_type.model.id.in_(batch.ids), {"owner_id": owner.id})
            elif replaced:
                sync_owners(record_type, record_type.model.id.in_(batch.ids))
    return AssignmentCounts(matched, created, skipped, replaced)


def _clashing(object_type: str, kind: str, user_id: int, valid_from: dt.date, valid_to: dt.date | None, batch: TargetBatch):
    """Existing periods the new one would meet, on the batch's records."""
    same_kind = A.c.kind == "primary" if kind == "primary" else and_(A.c.kind == "deputy", A.c.user_id == user_id)
    return and_(A.c.object_type == object_type, A.c.object_id.in_(batch.ids), same_kind, overlapping(valid_from, valid_to))


def _refuse_conflicts(record_type: RecordType, clash) -> None:
    count = db.session.scalar(select(func.count()).select_from(A).where(clash))
    if not count:
        return
    rows = db.session.execute(select(A).where(clash).order_by(A.c.object_id, A.c.valid_from).limit(LISTED_CONFLICTS)).all()
    conflicts = [{"assignment_id": row.id, "object_id": row.object_id, "user_id": row.user_id, "kind": row.kind,
                  "valid_from": row.valid_from.isoformat(),
                  "valid_to": row.valid_to.isoformat() if row.valid_to else None} for row in rows]
    raise Conflict(Message("%(count)s existing period(s) overlap the new one; nothing was changed "
                           "(send on_overlap 'keep' or 'replace')", count=count),
                   {"on_overlap": Message("%(count)s conflict(s) with existing periods", count=count)},
                   details={"conflicts": conflicts, "conflict_count": count})


def _make_room(clash, valid_from: dt.date, valid_to: dt.date | None) -> int:
    """``replace``: earlier periods end the day before ``valid_from``; later ones that the
    new period covers are dropped, those reaching beyond it start the day after it."""
    session = db.session
    day_before = valid_from - dt.timedelta(days=1)
    changed = session.execute(update(A).where(clash, A.c.valid_from < valid_from).values(valid_to=day_before)).rowcount
    if valid_to is None:
        changed += session.execute(delete(A).where(clash, A.c.valid_from >= valid_from)).rowcount
    else:
        reaching_beyond = or_(A.c.valid_to.is_(None), A.c.valid_to > valid_to)
        changed += session.execute(delete(A).where(clash, A.c.valid_from >= valid_from, not_(reaching_beyond))).rowcount
        changed += session.execute(update(A).where(clash, A.c.valid_from >= valid_from, reaching_beyond)
                                   .values(valid_from=valid_to + dt.timedelta(days=1))).rowcount
    return changed


def _require_primaries(record_type: RecordType, batch: TargetBatch, valid_from: dt.date, valid_to: dt.date | None) -> None:
    """A deputy stands in for a primary owner: each record needs a primary period that
    meets the deputy's period."""
    has_primary = exists().where(A.c.object_type == record_type.name, A.c.object_id == batch.table.c.object_id,
                                 A.c.kind == "primary", overlapping(valid_from, valid_to))
    lonely = list(db.session.scalars(select(batch.table.c.object_id).where(not_(has_primary))
                                     .order_by(batch.table.c.object_id).limit(21)))
    if lonely:
        raise Invalid(Message("a deputy needs a primary owner in that period"),
                      {"kind": Message("no primary owner in that period for %(type)s %(ids)s; assign one first",
                                       type=record_type.name, ids=_listed(lonely))})


def _insert_assignments(record_type: RecordType, batch: TargetBatch, user_id: int, kind: str, role: str,
                        valid_from: dt.date, valid_to: dt.date | None, access: str, created_by_id: int | None) -> int:
    """One ``INSERT … SELECT`` of the new periods, and one set of ``owner_assigned`` events."""
    session = db.session
    now = utcnow()
    source = select(literal(record_type.name, String), batch.table.c.object_id, literal(user_id, Integer),
                    literal(kind, String), literal(role, String), literal(valid_from, Date),
                    literal(valid_to, Date) if valid_to else null(), literal(access, String),
                    literal(created_by_id, Integer) if created_by_id else null(), literal(now, OwnerAssignment.created_at.type))
    session.execute(insert(A).from_select(PERIOD_COLUMNS, source))
    count = batch.count()
    if count:
        values = {"user_id": user_id, "kind": kind, "role": role, "valid_from": valid_from, "valid_to": valid_to, "access": access}
        bulk = BulkChange(record_type.name, "owner_assigned", batch.table, values, count)
        dispatch(session, ChangeSet(actor=current_actor(), at=now, context=current_context(), bulk=(bulk,)))
    return count


# --- keeping owner_id equal to today's primary -------------------------------------------------


def backfill_assignments(record_type: RecordType, condition) -> int:
    """Records that have an owner but no primary period at all (made before the plugin was
    on, or written around the ORM) get one, from the day they were created, indefinite."""
    model = record_type.model
    has_period = exists().where(A.c.object_type == record_type.name, A.c.object_id == model.id, A.c.kind == "primary")
    default_role = owner_roles()[0]
    source = select(literal(record_type.name, String), model.id, model.owner_id, literal("primary", String),
                    literal(default_role, String), func.date(model.created_at), literal("write", String),
                    literal(utcnow(), OwnerAssignment.created_at.type)
                    ).where(condition, model.owner_id.is_not(None), not_(has_period))
    columns = ["object_type", "object_id", "user_id", "kind", "role", "valid_from", "access", "created_at"]
    return db.session.execute(insert(A).from_select(columns, source)).rowcount


def sync_owners(record_type: RecordType, condition=None, day: dt.date | None = None, backfill: bool = True) -> int:
    """Set ``owner_id`` of the records matching ``condition`` to their primary in force on
    ``day`` (default today), or to nobody where no period is in force; one set-based
    update per new owner. Returns how many records changed."""
    day = day or today()
    model = record_type.model
    condition = true() if condition is None else condition
    if backfill:
        backfill_assignments(record_type, condition)
    current = and_(A.c.object_type == record_type.name, A.c.kind == "primary", in_force(day))
    new_owners = db.session.scalars(
        select(A.c.user_id).distinct().join(model, model.id == A.c.object_id)
        .where(current, condition, model.owner_id.is_distinct_from(A.c.user_id)))
    changed = 0
    with change_context(**{SYNC_FLAG: True}):
        for user_id in list(new_owners):
            held = select(A.c.object_id).where(current, A.c.user_id == user_id)
            changed += update_records(db.session, model, and_(condition, model.id.in_(held)), {"owner_id": user_id})
        orphaned = and_(condition, model.owner_id.is_not(None),
                        not_(exists().where(current, A.c.object_id == model.id)))
        changed += update_records(db.session, model, orphaned, {"owner_id": None})
    return changed


def end_periods(session: Session, current, day: dt.date) -> None:
    """The periods matching ``current`` (in force on ``day``) end the day before, or vanish
    if they begin that day."""
    session.execute(delete(A).where(current, A.c.valid_from == day))
    session.execute(update(A).where(current).values(valid_to=day - dt.timedelta(days=1)))


def _day_before(column):
    if db.engine.dialect.name == "sqlite":
        return func.date(column, "-1 day")
    return column - 1


def follow_owner_changes(session: Session, record_type: RecordType, ids, new_owner_id: int | None, actor_id: int | None) -> None:
    """An owner change made outside this plugin (a record form, the core API, offboarding):
    the primary period in force ends yesterday (or disappears if it began today) and, with
    a new owner, a new period starts today and runs until the next planned period.

    ``ids`` is a one-column SELECT of the records' ids (a bulk change's rows, or one id).
    """
    day = today()
    end_periods(session, and_(A.c.object_type == record_type.name, A.c.object_id.in_(ids), A.c.kind == "primary",
                              in_force(day)), day)
    if new_owner_id is None:
        return
    records = ids.subquery()
    object_id = records.c[0]
    planned = and_(A.c.object_type == record_type.name, A.c.kind == "primary", A.c.valid_from > day)
    valid_to = null()
    if session.scalar(select(exists().where(planned, A.c.object_id.in_(ids)))):  # rare: look each record's up
        later = A.alias("later")
        valid_to = _day_before(select(func.min(later.c.valid_from))
                               .where(later.c.object_type == record_type.name, later.c.object_id == object_id,
                                      later.c.kind == "primary", later.c.valid_from > day).scalar_subquery())
    source = select(literal(record_type.name, String), object_id, literal(new_owner_id, Integer),
                    literal("primary", String), literal(owner_roles()[0], String), literal(day, Date),
                    valid_to, literal("write", String),
                    literal(actor_id, Integer) if actor_id else null(), literal(utcnow(), OwnerAssignment.created_at.type))
    session.execute(insert(A).from_select(PERIOD_COLUMNS, source))


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
            session.execute(delete(A).where(A.c.object_type == record_type.name, A.c.object_id == change.object_id))
            continue
        owner_change = next((field for field in change.changes if field.field == "owner_id"), None)
        if change.operation in ("create", "update") and owner_change is not None:
            one = select(literal(change.object_id, Integer).label("object_id"))
            follow_owner_changes(session, record_type, one, owner_change.new, actor_id)
    for bulk in change_set.bulk:
        record_type = registry.get(bulk.object_type)
        if record_type is not None and bulk.operation == "update" and "owner_id" in bulk.new_values:
            follow_owner_changes(session, record_type, select(bulk.rows.c.object_id), bulk.new_values["owner_id"], actor_id)


# --- one assignment -------------------------------------------------------------------------


def get_assignment(assignment_id: int) -> OwnerAssignment:
    assignment = db.session.get(OwnerAssignment, assignment_id) if 0 < assignment_id < 2**31 else None
    if assignment is None:
        raise NotFound(Message("no owner assignment with id %(id)s", id=assignment_id))
    return assignment


def _require_right_on(assignment: OwnerAssignment, user: User | None) -> tuple[RecordType, Any]:
    record_type = record_type_named(assignment.object_type)
    require_owner_change_right(user, record_type)
    record = db.session.get(record_type.model, assignment.object_id)
    if record is None:
        raise NotFound(Message("the %(type)s of this assignment no longer exists", type=record_type.name))
    if refused_records(user, record_type, record_type.model.id == record.id):
        raise Forbidden(Message("you may not change this %(type)s: it belongs to another user", type=record_type.name))
    return record_type, record


def _describe(assignment: OwnerAssignment) -> dict[str, Any]:
    return {name: getattr(assignment, name) for name in TargetBatch.EVENT_FIELDS}


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
            raise Invalid(Message("a primary owner always has write access"), {"access": Message("only deputies may have read access")})
    valid_from = values.get("valid_from", assignment.valid_from)
    valid_to = values["valid_to"] if "valid_to" in values else assignment.valid_to
    check_period(valid_from, valid_to)
    others = and_(A.c.object_type == assignment.object_type, A.c.object_id == assignment.object_id, A.c.id != assignment.id,
                  overlapping(valid_from, valid_to))
    if assignment.kind == "primary":
        clash = db.session.execute(select(A.c.id, A.c.valid_from, A.c.valid_to).where(others, A.c.kind == "primary").limit(1)).first()
        if clash is not None:
            raise Conflict(Message("the period would overlap another primary period of the record"),
                           {"valid_from": Message("overlaps assignment %(id)s (%(start)s … %(end)s)", id=clash.id,
                                                  start=clash.valid_from, end=clash.valid_to or "indefinite")})
    else:
        if not db.session.scalar(select(exists().where(others, A.c.kind == "primary"))):
            raise Invalid(Message("a deputy needs a primary owner in that period"), {"kind": Message("no primary owner in that period")})
    for field, value in values.items():
        setattr(assignment, field, value)
    db.session.flush()
    after = _describe(assignment)
    changes = tuple(FieldChange(name, change_value(before[name]), change_value(after[name])) for name in before if before[name] != after[name])
    if changes:
        record_event(db.session, RecordChange(record_type.name, record.id, record.display_name, "owner_assignment_changed", changes))
    if assignment.kind == "primary":
        sync_owners(record_type, record_type.model.id == record.id, backfill=False)
    return assignment


#: The fields of a period that always have a value (only ``valid_to`` may be null: indefinite).
REQUIRED_PERIOD_FIELDS = ("user_id", "role", "access", "valid_from")


def _refuse_nulls(values: Mapping[str, Any]) -> None:
    """A change may not empty a field every period needs (422 naming each such field)."""
    nulls = [field for field in REQUIRED_PERIOD_FIELDS if field in values and values[field] is None]
    if nulls:
        raise Invalid(Message("a period needs a user, a role, an access level and a first day"),
                      {field: Message("must not be null") for field in nulls})


def remove_assignment(assignment: OwnerAssignment, user: User | None) -> None:
    """Delete one period. The primary in force today of a type that requires an owner
    cannot be removed (assign another owner instead)."""
    record_type, record = _require_right_on(assignment, user)
    if (assignment.kind == "primary" and assignment.in_force_on(today()) and settings_for(record_type.name).owner_required):
        raise Conflict(Message("%(types)s require an owner; assign another owner instead of removing this one",
                               types=record_type.label_plural.lower()), {"owner_id": Message("an owner is required")})
    changes = tuple(FieldChange(name, change_value(value), None) for name, value in _describe(assignment).items() if value is not None)
    db.session.delete(assignment)
    db.session.flush()
    record_event(db.session, RecordChange(record_type.name, record.id, record.display_name, "owner_unassigned", changes))
    if assignment.kind == "primary":
        sync_owners(record_type, record_type.model.id == record.id, backfill=False)


# --- reading ------------------------------------------------------------------------------


def list_assignments(object_type: str | None = None, object_id: int | None = None, user_id: int | None = None,
                     at: dt.date | None = None, kind: str | None = None):
    statement = select(OwnerAssignment)
    if object_type is not None:
        record_type_named(object_type)
        statement = statement.where(OwnerAssignment.object_type == object_type)
    if object_id is not None:
        statement = statement.where(OwnerAssignment.object_id == object_id)
    if user_id is not None:
        statement = statement.where(OwnerAssignment.user_id == user_id)
    if kind is not None:
        statement = statement.where(OwnerAssignment.kind == kind)
    if at is not None:
        statement = statement.where(in_force(at, OwnerAssignment.__table__))
    return statement.order_by(OwnerAssignment.object_type, OwnerAssignment.object_id, OwnerAssignment.valid_from,
                              OwnerAssignment.id)


@dataclass(frozen=True)
class OwnersOnDay:
    primary: OwnerAssignment | None
    deputies: list[OwnerAssignment]


def owners_on(record_type: RecordType, object_id: int, day: dt.date) -> OwnersOnDay:
    """Who owned the record on ``day``: its primary owner and its deputies."""
    rows = db.session.scalars(
        select(OwnerAssignment).where(OwnerAssignment.object_type == record_type.name, OwnerAssignment.object_id == object_id,
                                      in_force(day, OwnerAssignment.__table__))
        .order_by(OwnerAssignment.kind.desc(), OwnerAssignment.valid_from)).all()
    # periods go with their record, so only an answer without any needs the second look
    if not rows and db.session.scalar(select(record_type.model.id).where(record_type.model.id == object_id)) is None:
        raise NotFound(Message("no %(type)s with id %(id)s", type=record_type.name, id=object_id))
    primary = next((row for row in rows if row.kind == "primary"), None)
    return OwnersOnDay(primary, [row for row in rows if row.kind == "deputy"])


def history(record_type: RecordType, object_id: int) -> list[OwnerAssignment]:
    """Every period of the record, oldest first (the admin's "Owners" section)."""
    return list(db.session.scalars(
        select(OwnerAssignment).where(OwnerAssignment.object_type == record_type.name, OwnerAssignment.object_id == object_id)
        .order_by(OwnerAssignment.valid_from, OwnerAssignment.kind.desc(), OwnerAssignment.id)))


@dataclass(frozen=True)
class Portfolio:
    """One page of a user's portfolio. ``items`` are rows with every column of an
    assignment plus ``object_name`` (``None`` for a record type no longer registered)."""

    user: User
    total: int
    items: list[Row]


def portfolio(user_id: int, first_day: dt.date, last_day: dt.date, kind: str | None = None,
              object_type: str | None = None, *, page: int = 1, per_page: int = 50) -> Portfolio:
    """A user's periods that meet ``first_day … last_day`` ("records by owner"), newest
    first: the page ``page`` with the names of their records, and how many there are.

    One round trip: the user, the count, the page and the names come from one statement."""
    _check_portfolio_arguments(user_id, first_day, last_day, object_type)
    statement = _portfolio_statement(record_types(), kind is not None, object_type is not None)
    rows = db.session.execute(statement, {
        "user_id": user_id, "first_day": first_day, "last_day": last_day, "kind": kind, "object_type": object_type,
        "limit": per_page, "offset": (page - 1) * per_page}).all()
    if not rows:
        raise _unknown_user(user_id)
    return Portfolio(user=rows[0].User, total=rows[0].total, items=[row for row in rows if row.id is not None])


def _unknown_user(user_id: int) -> NotFound:
    return NotFound(f"no user with id {user_id}", {"user_id": "unknown user"})


def _check_portfolio_arguments(user_id: int, first_day: dt.date, last_day: dt.date, object_type: str | None) -> None:
    """A reversed period or an unknown type is a 422, unless the user is unknown (404 first)."""
    try:
        check_period(first_day, last_day)
        if object_type is not None:
            record_type_named(object_type)
    except Invalid:
        if db.session.get(User, user_id) is None:
            raise _unknown_user(user_id) from None
        raise


@functools.lru_cache(maxsize=32)
def _portfolio_statement(registry: RecordTypeRegistry, by_kind: bool, by_type: bool):
    """The statement of :func:`portfolio`, with bound parameters (``user_id``, ``first_day``,
    ``last_day``, ``kind``, ``object_type``, ``limit``, ``offset``); built once per app and
    filter set, because building it and computing its cache key take longer than running it.

    ``users`` LEFT JOIN the page: the user's row comes back even when the page is empty,
    and no row at all means there is no such user. The count is a scalar subquery (an
    index-only scan on ``ix_ownership_assignments_user``); the page walks that index
    backwards and stops after ``offset + limit`` rows."""
    user_id = bindparam("user_id", type_=Integer)
    matching = [A.c.user_id == user_id, overlapping(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date))]
    if by_kind:
        matching.append(A.c.kind == bindparam("kind", type_=String))
    if by_type:
        matching.append(A.c.object_type == bindparam("object_type", type_=String))
    page = (select(A).where(*matching).order_by(A.c.valid_from.desc(), A.c.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)).subquery("page"))
    total = select(func.count()).select_from(A).where(*matching).scalar_subquery()
    name = record_name_expression(registry, page.c.object_type, page.c.object_id)
    return (select(User, total.label("total"), *page.c, name.label("object_name"))
            .outerjoin(page, true()).where(User.id == user_id)
            .order_by(page.c.valid_from.desc(), page.c.id.desc()))


def record_name_expression(registry: RecordTypeRegistry, object_type, object_id):
    """SQL: the display name of the record ``object_type``/``object_id`` (NULL for a type
    not in ``registry``). A CASE runs only its matching branch: one primary-key lookup."""
    lookups = [(object_type == record_type.name,
                select(record_type.model.display_name_expression()).where(record_type.model.id == object_id).scalar_subquery())
               for record_type in registry]
    return case(*lookups, else_=null()) if lookups else null()


# --- owner required, access --------------------------------------------------------------------


def owner_problems(record_type: RecordType, record: Any, operation: str) -> dict[str, str]:
    """Owner required (per type), and who may choose the owner (403 otherwise; see
    :func:`require_owner_choice_right`)."""
    with db.session.no_autoflush:  # the record's pending changes are what is being judged
        owner_id_before, owner_id_now, changed = owner_change_of(record)
        settings = settings_for(record_type.name)
        if settings.owner_required and owner_id_now is None:
            return {"owner_id": f"an owner is required for {record_type.label_plural.lower()}: choose a user (owner_id)"}
        if operation == "create" or changed:
            require_owner_choice_right(acting_user(), record_type, record, operation, owner_id_now, owner_id_before)
    return {}


def owner_change_of(record: Any) -> tuple[int | None, int | None, bool]:
    """The record's owner id before its pending changes, after them, and whether they change
    it. The API sets ``owner_id``; the admin's form sets the ``owner`` relationship."""
    from sqlalchemy import inspect as inspect_state

    state = inspect_state(record)
    by_id, by_user = state.attrs.owner_id.history, state.attrs.owner.history
    if by_user.has_changes():
        before = by_user.deleted[0].id if by_user.deleted and by_user.deleted[0] is not None else record.owner_id
        now = record.owner.id if record.owner is not None else None
        return before, now, True
    if by_id.has_changes():
        before = by_id.deleted[0] if by_id.deleted else None
        return before, record.owner_id, True
    owner = record.owner_id if record.owner_id is not None else getattr(getattr(record, "owner", None), "id", None)
    return owner, owner, False


# --- jobs -------------------------------------------------------------------------------------


def apply_periods(day: dt.date | None = None) -> dict[str, int]:
    """Make every record's ``owner_id`` the primary in force on ``day`` (the daily job)."""
    return {record_type.name: sync_owners(record_type, day=day) for record_type in record_types()}


def release_inactive(now: dt.datetime | None = None) -> dict[str, int]:
    """Remove the owner from records without activity for the type's ``inactivity_days``
    and tell each former owner with a notification. Activity: any change of the record
    (its ``updated_at``) or a new owner period on it."""
    from flask_babel import gettext

    now = now or utcnow()
    released = {}
    for settings in db.session.scalars(select(OwnershipSettings).where(OwnershipSettings.inactivity_days.is_not(None))):
        record_type = record_types().get(settings.object_type)
        if record_type is None:
            continue
        model = record_type.model
        cutoff = now - dt.timedelta(days=settings.inactivity_days)
        recent_period = exists().where(A.c.object_type == record_type.name, A.c.object_id == model.id, A.c.created_at >= cutoff)
        stale = and_(model.owner_id.is_not(None), model.updated_at < cutoff, not_(recent_period))
        prefix = gettext("You are no longer the owner of %(label)s ", label=record_type.label.lower())
        suffix = gettext(": no activity for %(days)d days.", days=settings.inactivity_days)
        message = literal(prefix + "\u201e") + model.display_name_expression() + literal("\u201d" + suffix)
        notices = select(model.owner_id, literal("ownership.released", String), message, literal(record_type.name, String),
                         model.id, literal(now, Notification.created_at.type)).where(stale)
        db.session.execute(insert(Notification).from_select(
            ["user_id", "kind", "message", "object_type", "object_id", "created_at"], notices))
        with change_context(ownership_release=True):
            released[record_type.name] = update_records(db.session, model, stale, {"owner_id": None})
    return released


# --- offboarding ------------------------------------------------------------------------------


def deputy_counts(user_id: int) -> list[tuple[RecordType, int, int]]:
    """Per record type: the user's deputy periods in force or planned, and primary periods
    planned to start later (both move with offboarding)."""
    day = today()
    rows = db.session.execute(
        select(A.c.object_type, A.c.kind, func.count())
        .where(A.c.user_id == user_id, or_(A.c.valid_to.is_(None), A.c.valid_to >= day),
               or_(A.c.kind == "deputy", A.c.valid_from > day))
        .group_by(A.c.object_type, A.c.kind)).all()
    counts: dict[str, list[int]] = {}
    for object_type, kind, count in rows:
        counts.setdefault(object_type, [0, 0])[0 if kind == "deputy" else 1] += count
    return [(record_types().get(name), deputies, planned) for name, (deputies, planned) in counts.items()
            if record_types().get(name) is not None]


def _known_types(names: Iterable[str]) -> Iterator[RecordType]:
    registry = record_types()
    return (registry.get(name) for name in names if registry.get(name) is not None)


def transfer_assignments(session: Session, from_user_id: int, to_user_id: int, object_types: Iterable[str],
                         include_closed: bool = True, share: tuple[int, int] | None = None,
                         transfer_id: int | None = None) -> dict[tuple[str, str], int]:
    """Hand the user's deputy periods (in force or planned) and planned primary periods
    to another user, set-based: periods under way end yesterday and continue from today
    under the new user; planned ones simply change hands. With ``transfer_id``, every
    period handed over is kept in ``ownership_handovers`` for :func:`undo_handovers`.
    Idempotent. Returns how many periods moved per record type and kind of item
    (``deputy``, ``planned_owner``)."""
    day = today()
    moved: Counter[tuple[str, str]] = Counter()
    for record_type in _known_types(object_types):
        selected = and_(A.c.object_type == record_type.name, A.c.user_id == from_user_id,
                        or_(A.c.valid_to.is_(None), A.c.valid_to >= day), or_(A.c.kind == "deputy", A.c.valid_from > day))
        if not include_closed and record_type.closed is not None:
            selected = and_(selected, A.c.object_id.in_(select(record_type.model.id).where(not_(record_type.closed()))))
        if share is not None:
            selected = and_(selected, in_share(A.c.id, selected, share))
        # fix the share's rows before the statements below change what ``selected`` matches
        periods = session.execute(select(A.c.id, A.c.kind).where(selected)).all()
        if not periods:
            continue
        moved.update((record_type.name, ITEM_KINDS[kind]) for _, kind in periods)
        chosen = [period_id for period_id, _ in periods]
        _announce_handover(session, record_type, selected, {from_user_id: to_user_id})
        for start in range(0, len(chosen), HANDOVER_CHUNK):
            handed = _hand_over_periods(session, chosen[start:start + HANDOVER_CHUNK], to_user_id, day)
            if transfer_id is not None:
                _keep_handovers(session, record_type, transfer_id, from_user_id, to_user_id, handed)
    return dict(moved)


def _keep_handovers(session: Session, record_type: RecordType, transfer_id: int, from_user_id: int, to_user_id: int,
                    handed: Sequence[Row]) -> None:
    """Keep the periods a transfer handed over (as :func:`_hand_over_periods` returns them)
    in ``ownership_handovers``, with their records' names, for undo and the transfer's list."""
    model = record_type.model
    names = dict(session.execute(select(model.id, model.display_name_expression())
                                 .where(model.id.in_({period.object_id for period in handed}))).all())
    now = utcnow()
    session.execute(insert(H), [{"transfer_id": transfer_id, "period_id": period.id, "object_type": period.object_type,
                                 "object_id": period.object_id, "object_name": names.get(period.object_id),
                                 "kind": period.kind, "from_user_id": from_user_id, "to_user_id": to_user_id,
                                 "valid_from": period.valid_from, "valid_to": period.valid_to, "moved_at": now}
                                for period in handed])


#: How offboarding names a period handed over, by the period's kind: a primary period that
#: is handed over is one that starts later.
ITEM_KINDS = {"deputy": "deputy", "primary": "planned_owner"}


#: Periods handed over per statement (the ids are bound as parameters).
HANDOVER_CHUNK = 5000


def _announce_handover(session: Session, record_type: RecordType, periods, new_users: Mapping[int, int]) -> None:
    """One ``owner_assigned`` event per record whose periods (``periods``, a condition on
    them) change hands, from each user in ``new_users`` to the user it maps to: the
    history shows the deputy's change, naming the transfer (or its undo) in its context."""
    model = record_type.model
    for from_user_id, to_user_id in new_users.items():
        with TargetBatch(session) as batch:
            theirs = select(A.c.object_id).where(periods, A.c.user_id == from_user_id)
            source = (select(model.id, model.display_name_expression(), literal(from_user_id, Integer))
                      .where(model.id.in_(theirs)))
            session.execute(insert(batch.table).from_select(["object_id", "object_name", "old_user_id"], source))
            count = batch.count()
            if count:
                bulk = BulkChange(record_type.name, "owner_assigned", batch.table, {"user_id": to_user_id}, count)
                dispatch(session, ChangeSet(actor=current_actor(), at=utcnow(), context=current_context(), bulk=(bulk,)))


def _hand_over_periods(session: Session, ids: Sequence[int], to_user_id: int, day: dt.date) -> list[Row]:
    """Periods under way end yesterday and continue from today under ``to_user_id``; planned
    ones change hands. Returns the periods ``to_user_id`` now holds (the continuations and
    the planned ones): id, object_type, object_id, kind, valid_from, valid_to."""
    chosen = A.c.id.in_(ids)
    under_way = and_(chosen, A.c.valid_from < day)
    held = (A.c.id, A.c.object_type, A.c.object_id, A.c.kind, A.c.valid_from, A.c.valid_to)
    copy = select(A.c.object_type, A.c.object_id, literal(to_user_id, Integer), A.c.kind, A.c.role, literal(day, Date),
                  A.c.valid_to, A.c.access, A.c.created_by_id, literal(utcnow(), OwnerAssignment.created_at.type)).where(under_way)
    continued = session.execute(insert(A).from_select(PERIOD_COLUMNS, copy).returning(*held)).all()
    session.execute(update(A).where(under_way).values(valid_to=day - dt.timedelta(days=1)))
    planned = session.execute(update(A).where(chosen, A.c.valid_from >= day).values(user_id=to_user_id).returning(*held)).all()
    return continued + planned


def handed_over(transfer_id: int):
    """The periods transfer ``transfer_id`` handed over or ended, as the transfer's items
    (the columns of :data:`opiekun.user_items.MOVED_ITEM_COLUMNS`): the kind of item, the
    user who held it before and the one after (none: the period ended), and after undo the
    outcome."""
    return select(H.c.object_type, H.c.object_id, H.c.object_name, case(ITEM_KINDS, value=H.c.kind).label("field"),
                  H.c.from_user_id.label("old_value"), H.c.to_user_id.label("new_value"), H.c.moved_at,
                  H.c.outcome).where(H.c.transfer_id == transfer_id)


def undo_handovers(session: Session, transfer_id: int, from_user_id: int) -> None:
    """Hand the periods transfer ``transfer_id`` handed over back to ``from_user_id`` (as a
    hand-over: under way since before today, they end yesterday and continue under the
    former user), except those that changed since: deleted, given to someone else, or with
    other dates or kind; those stay, their outcome saying why (:func:`handed_over` lists
    them). Each hand-over is judged once."""
    pending = and_(H.c.transfer_id == transfer_id, H.c.outcome.is_(None))
    _judge_handovers(session, pending)
    _hand_back(session, pending, from_user_id)


def _judge_handovers(session: Session, pending) -> None:
    """Mark the hand-overs (``pending``) whose period is gone, held by someone else than the
    transfer left it with, or has other dates or kind than the transfer left it with; and
    the vanished periods whose user stands in on the record again (made anew since)."""
    period = select(A.c.id).where(A.c.id == H.c.period_id)
    left = and_(pending, H.c.vanished.is_(False))
    for outcome, condition in (
            ("deleted", ~period.exists()),
            ("reassigned", period.where(A.c.user_id != func.coalesce(H.c.to_user_id, H.c.from_user_id)).exists()),
            ("changed", period.where(or_(A.c.kind != H.c.kind, A.c.valid_from != H.c.valid_from,
                                         A.c.valid_to.is_distinct_from(H.c.valid_to))).exists())):
        session.execute(update(H).where(left, condition).values(outcome=outcome))
    made_again = (select(A.c.id).where(A.c.object_type == H.c.object_type, A.c.object_id == H.c.object_id,
                                       A.c.user_id == H.c.from_user_id, A.c.kind == H.c.kind,
                                       or_(A.c.valid_to.is_(None), A.c.valid_to >= H.c.valid_from),
                                       or_(H.c.previous_valid_to.is_(None), A.c.valid_from <= H.c.previous_valid_to)).exists())
    session.execute(update(H).where(pending, H.c.vanished.is_(True), made_again).values(outcome="changed"))


def _hand_back(session: Session, pending, from_user_id: int) -> None:
    """Hand the periods of the hand-overs left in ``pending`` back to ``from_user_id`` (one
    event per record and former holder) and re-open the periods the transfer ended; those
    of record types no longer registered (their plugin is off) cannot be and count as
    deleted."""
    registry = record_types()
    known = and_(pending, H.c.object_type.in_(registry.names()))
    periods: dict[str, list[int]] = {}
    holders: dict[str, set[int]] = {}
    for object_type, to_user_id, period_id in session.execute(select(H.c.object_type, H.c.to_user_id, H.c.period_id)
                                                              .where(known, H.c.to_user_id.is_not(None))):
        periods.setdefault(object_type, []).append(period_id)
        holders.setdefault(object_type, set()).add(to_user_id)
    day = today()
    for object_type, ids in periods.items():
        for start in range(0, len(ids), HANDOVER_CHUNK):
            chunk = ids[start:start + HANDOVER_CHUNK]
            _announce_handover(session, registry.get(object_type), A.c.id.in_(chunk),
                               dict.fromkeys(holders[object_type], from_user_id))
            _hand_over_periods(session, chunk, from_user_id, day)
    ended = and_(known, H.c.to_user_id.is_(None), H.c.vanished.is_(False))
    previous_end = select(H.c.previous_valid_to).where(ended, H.c.period_id == A.c.id).scalar_subquery()
    session.execute(update(A).where(A.c.id.in_(select(H.c.period_id).where(ended))).values(valid_to=previous_end))
    _make_vanished_again(session, and_(known, H.c.vanished.is_(True)))
    session.execute(update(H).where(known).values(outcome="restored"))
    session.execute(update(H).where(pending).values(outcome="deleted"))


def _make_vanished_again(session: Session, vanished) -> None:
    """The periods of the hand-overs ``vanished`` (ended by a transfer on the day they
    began) are made again as they were, on the records that still exist; those of deleted
    records count as deleted."""
    actor_id = current_actor().user_id
    for record_type in _known_types(session.scalars(select(H.c.object_type).where(vanished).distinct()).all()):
        of_type = and_(vanished, H.c.object_type == record_type.name)
        session.execute(update(H).where(of_type, H.c.object_id.not_in(select(record_type.model.id))).values(outcome="deleted"))
        again = select(H.c.object_type, H.c.object_id, H.c.from_user_id, H.c.kind, H.c.role, H.c.valid_from,
                       H.c.previous_valid_to, H.c.access, literal(actor_id, Integer) if actor_id else null(),
                       literal(utcnow(), OwnerAssignment.created_at.type)).where(of_type)
        session.execute(insert(A).from_select(PERIOD_COLUMNS, again))


def _deputies_in_force(object_type: str, day: dt.date, but_not: int):
    return and_(A.c.object_type == object_type, A.c.kind == "deputy", in_force(day), A.c.user_id != but_not)


def promote_deputies(session: Session, from_user_id: int, object_types: Iterable[str], include_closed: bool = True,
                     transfer_id: int | None = None) -> dict[str, int]:
    """Records the user owns that have a deputy in force today go to that deputy (the one
    with the lowest user id when there are several; departed deputies are passed over),
    whose deputy period ends as they become the primary owner (kept for undo under
    ``transfer_id``). Set-based: one change per deputy. Returns how many records each type
    gave to their deputies."""
    day = today()
    promoted: dict[str, int] = {}
    for record_type in _known_types(object_types):
        model = record_type.model
        owned = records_to_move(record_type, from_user_id, include_closed)
        deputy_of = and_(_deputies_in_force(record_type.name, day, from_user_id),
                         A.c.user_id.in_(select(User.id).where(User.status == "active")))
        deputies = session.scalars(select(A.c.user_id).where(deputy_of, A.c.object_id.in_(select(model.id).where(owned)))
                                   .distinct().order_by(A.c.user_id)).all()
        for deputy_id in deputies:
            their_records = select(A.c.object_id).where(deputy_of, A.c.user_id == deputy_id)
            count = update_records(session, model, and_(owned, model.id.in_(their_records)), {"owner_id": deputy_id})
            now_theirs = select(model.id).where(model.owner_id == deputy_id)
            _end_for_transfer(session, record_type, and_(deputy_of, A.c.user_id == deputy_id, A.c.object_id.in_(now_theirs)),
                              day, transfer_id)
            promoted[record_type.name] = promoted.get(record_type.name, 0) + count
    return promoted


def end_deputies_of_moving_records(session: Session, request) -> None:
    """Salesforce's "keep the account team" unticked: the deputy periods of other users on
    the records this transfer request is about to move end (yesterday, or vanish if they
    began today; kept for undo). ``request`` is an :class:`opiekun.user_items.TransferRequest`."""
    day = today()
    for record_type in _known_types(request.object_types):
        moving = records_to_move(record_type, request.from_user_id, request.include_closed, request.share)
        deputies = and_(_deputies_in_force(record_type.name, day, request.from_user_id),
                        A.c.object_id.in_(select(record_type.model.id).where(moving)))
        _end_for_transfer(session, record_type, deputies, day, request.transfer_id)


def _end_for_transfer(session: Session, record_type: RecordType, current, day: dt.date, transfer_id: int | None) -> None:
    """:func:`end_periods` for a transfer: with ``transfer_id``, the periods of
    ``record_type`` that end are kept in ``ownership_handovers`` first, with the end they
    had, so that undo can re-open them; those that vanish, having begun today, with what
    undo needs to make them again."""
    if transfer_id is not None:
        model = record_type.model
        name = select(model.display_name_expression()).where(model.id == A.c.object_id).scalar_subquery()
        vanishes = A.c.valid_from >= day
        left_until = case((vanishes, null()), else_=literal(day - dt.timedelta(days=1), Date))
        ending = select(literal(transfer_id, Integer), A.c.id, A.c.object_type, A.c.object_id, name, A.c.kind, A.c.user_id,
                        left_until, A.c.valid_from, A.c.valid_to, vanishes, A.c.role, A.c.access,
                        literal(utcnow(), H.c.moved_at.type)).where(current)
        session.execute(insert(H).from_select(["transfer_id", "period_id", "object_type", "object_id", "object_name", "kind",
                                               "from_user_id", "valid_to", "valid_from", "previous_valid_to", "vanished",
                                               "role", "access", "moved_at"], ending))
    end_periods(session, current, day)
