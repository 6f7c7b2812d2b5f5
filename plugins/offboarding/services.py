"""Offboarding: what a user has (preview), moving it to others (transfers), and undo.

The plugin knows no other plugin's models. It asks every plugin through the core hooks —
``opiekun_user_items`` for the preview, ``opiekun_transfer_user_items`` for the moves — and
learns which records moved from the change stream: every change made while a transfer runs
carries ``offboarding_transfer_id`` in its context, and :func:`record_moves` copies the
changed rows (``INSERT … SELECT`` for set-based changes) into ``offboarding_moved_items``.
Undo puts those fields back with the core's ``update_records``, unless the record changed
since.

A transfer is planned as steps — one record type to one recipient, or a share of the type —
and the background job commits each step on its own, so a run that dies half-way is
resumed by running the steps not yet done: every item moves exactly once.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Integer, String, and_, func, insert, literal, not_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from opiekun.api.errors import Conflict, Invalid, Message, NotFound
from opiekun.api.schemas import MAX_ID
from opiekun.changes import ChangeSet, change_context, update_records
from opiekun.extensions import db
from opiekun.jobs import enqueue_on_commit, error_summary
from opiekun.models import Notification, User, utcnow
from opiekun.records import load_for_change
from opiekun.plugins.offboarding import jobs
from opiekun.plugins.offboarding.models import UNDER_WAY, MovedItem, Transfer, TransferStep
from opiekun.record_types import RecordType, record_types
from opiekun.user_items import MOVED_ITEM_COLUMNS, ItemCount, TransferRequest, UndoRequest

#: The change-context key that ties every change of a transfer to it (audit shows it).
TRANSFER_CONTEXT = "offboarding_transfer_id"
#: The key of an undo's changes: they are history, but not moves to record.
UNDO_CONTEXT = "offboarding_undo_of"
#: A run whose last step finished longer ago than this may be resumed (seconds).
DEFAULT_STALE_AFTER = 600


def plugins():
    return current_app.extensions["opiekun.plugins"]


# --- preview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    user: User
    include_closed: bool
    items: list[ItemCount]

    @property
    def total(self) -> int:
        return sum(item.total for item in self.items)

    def types(self) -> set[str]:
        """Record types with something to move."""
        return {item.object_type for item in self.items if item.total}

    def total_of(self, object_types: Iterable[str]) -> int:
        wanted = set(object_types)
        return sum(item.total for item in self.items if item.object_type in wanted)


def get_user(user_id: int, field_name: str | None = None) -> User:
    """The user; unknown: 404 for a user in the path, 422 naming ``field_name`` in a body."""
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        if field_name is None:
            raise NotFound(Message("no user with id %(id)s", id=user_id))
        raise Invalid(Message("unknown user"), {field_name: Message("no user with id %(id)s", id=user_id)})
    return user


def preview(user_id: int, include_closed: bool = True) -> Preview:
    """Everything the user owns or is responsible for, per record type and kind, from every
    enabled plugin (partners' types included); types with nothing are left out."""
    user = get_user(user_id)
    items = [item for item in plugins().user_items(user_id, include_closed) if item.total]
    return Preview(user, include_closed, items)


# --- planning a transfer -----------------------------------------------------------------------


@dataclass(frozen=True)
class SplitPart:
    """One recipient of a split: given whole record types, or a ``share`` (weight) of every
    type nobody is given."""

    user_id: int
    object_types: tuple[str, ...] | None = None
    share: int | None = None


@dataclass(frozen=True)
class TransferPlan:
    """What an admin asked for (the API's body, checked by :func:`plan_steps`)."""

    from_user_id: int
    to_user_id: int | None = None
    split: tuple[SplitPart, ...] = ()
    object_types: tuple[str, ...] | None = None
    include_closed: bool = True
    promote_deputies: bool = False
    #: ``False``: other users' deputy periods on the moved records end.
    deputies_stay: bool = True
    #: Persons, leads, deals, offers, invoices (any record with a company) go to whoever
    #: gets their company, before the rest of their type is given or shared.
    follow_company: bool = False
    allow_active: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedStep:
    object_type: str
    to_user_id: int
    share: tuple[int, int] | None = None
    follow_company: bool = False


def _check_sender(plan: TransferPlan) -> User:
    sender = get_user(plan.from_user_id, "from_user_id")
    if sender.status != "departed" and not plan.allow_active:
        raise Invalid(Message("the user is still active"), {"from_user_id": Message(
            "%(name)s is active; mark them departed first, or set allow_active to move the items of an active user",
            name=sender.name)})
    return sender


def _check_recipient(user_id: int, sender: User, field_name: str) -> None:
    recipient = get_user(user_id, field_name)
    if recipient.id == sender.id:
        raise Invalid(Message("a transfer needs another user"),
                      {field_name: Message("the items cannot be transferred to their own user")})
    if recipient.status != "active":
        raise Invalid(Message("the recipient has departed"),
                      {field_name: Message("%(name)s has departed and cannot receive items", name=recipient.name)})


def _chosen_types(plan: TransferPlan, sender_preview: Preview) -> list[str]:
    registry = record_types()
    if plan.object_types is None:
        held = set(sender_preview.types())
        if not held:
            raise Invalid(Message("nothing to transfer"),
                          {"from_user_id": Message("%(name)s has no items to transfer", name=sender_preview.user.name)})
        return [record_type.name for record_type in registry if record_type.name in held]
    unknown = [name for name in plan.object_types if name not in registry]
    if unknown:
        raise Invalid(Message("unknown record types"),
                      {"object_types": Message("no record type %(names)s", names=", ".join(sorted(unknown)))})
    if not plan.object_types:
        raise Invalid(Message("nothing chosen"), {"object_types": Message("choose at least one record type")})
    return [record_type.name for record_type in registry if record_type.name in set(plan.object_types)]


def _split_steps(plan: TransferPlan, chosen: list[str]) -> list[PlannedStep]:
    """Whole types to the users named for them; every other chosen type shared, round-robin
    by count, across the users with a ``share`` (weights), one after another."""
    given: dict[str, int] = {}
    sharers: list[SplitPart] = []
    for index, part in enumerate(plan.split):
        where = f"split.{index}"
        if (part.object_types is None) == (part.share is None):
            raise Invalid(Message("a split part needs object_types or share"),
                          {where: Message("give either object_types or share, not both")})
        if part.share is not None:
            if any(other.user_id == part.user_id for other in sharers):
                raise Invalid(Message("a user appears twice"), {f"{where}.user_id": Message("this user already has a share")})
            sharers.append(part)
            continue
        for name in part.object_types:
            if name not in chosen:
                raise Invalid(Message("type not chosen"),
                              {f"{where}.object_types": Message("%(name)s is not among the types to transfer", name=name)})
            if name in given:
                raise Invalid(Message("a type is given twice"),
                              {f"{where}.object_types": Message("%(name)s is already given to another user", name=name)})
            given[name] = part.user_id
    left = [name for name in chosen if name not in given]
    if left and not sharers:
        raise Invalid(Message("the split does not cover every type"),
                      {"split": Message("nobody is given: %(names)s", names=", ".join(left))})
    steps = [PlannedStep(name, given[name]) for name in chosen if name in given]
    for name in left:
        weights_left = sum(part.share for part in sharers)
        for position, part in enumerate(sharers):
            last = position == len(sharers) - 1
            steps.append(PlannedStep(name, part.user_id, None if last else (part.share, weights_left)))
            weights_left -= part.share
    return steps


def plan_steps(plan: TransferPlan) -> tuple[User, list[PlannedStep], int]:
    """Check the request (422 naming the field; 409 while another transfer of the user is
    under way) and turn it into steps; also returns the number of items to move."""
    sender = _check_sender(plan)
    if (plan.to_user_id is None) == (not plan.split):
        raise Invalid(Message("give to_user_id or split"),
                      {"to_user_id": Message("give either one recipient or a split, not both")})
    recipients = [plan.to_user_id] if plan.to_user_id is not None else [part.user_id for part in plan.split]
    for index, user_id in enumerate(recipients):
        _check_recipient(user_id, sender, "to_user_id" if plan.to_user_id is not None else f"split.{index}.user_id")
    refuse_second_transfer(sender.id)
    sender_preview = preview(sender.id, plan.include_closed)
    chosen = _chosen_types(plan, sender_preview)
    if plan.to_user_id is not None:
        steps = [PlannedStep(name, plan.to_user_id) for name in chosen]
    else:
        steps = _split_steps(plan, chosen)
    if plan.follow_company:
        steps = _with_company_followers(steps)
    return sender, steps, sender_preview.total_of(chosen)


def _with_company_followers(steps: list[PlannedStep]) -> list[PlannedStep]:
    """Companies first; then, for every other type whose records have a company and every
    user who gets companies, a step moving the records of that user's companies; then the
    rest as planned."""
    registry = record_types()
    company_steps = [step for step in steps if step.object_type == "company"]
    receivers = list(dict.fromkeys(step.to_user_id for step in company_steps))
    followers = [PlannedStep(name, user_id, follow_company=True)
                 for name in dict.fromkeys(step.object_type for step in steps if step.object_type != "company")
                 if hasattr(registry.get(name).model, "company_id")
                 for user_id in receivers]
    return company_steps + followers + [step for step in steps if step.object_type != "company"]


def transfer_under_way(user_id: int) -> int | None:
    """The id of the user's transfer that is queued or running, if any."""
    return db.session.scalar(select(Transfer.id).where(Transfer.from_user_id == user_id, Transfer.status.in_(UNDER_WAY)))


def refuse_second_transfer(user_id: int) -> None:
    running = transfer_under_way(user_id)
    if running is not None:
        raise Conflict(Message("transfer %(id)s of this user is still under way", id=running),
                       {"from_user_id": Message("a transfer is under way")}, details={"transfer_id": running})


def create_transfer(plan: TransferPlan, requested_by: User | None) -> Transfer:
    """Save the transfer and its steps (``queued``); the caller commits and starts the job."""
    sender, steps, total = plan_steps(plan)
    options = {**plan.options, "promote_deputies": plan.promote_deputies, "deputies_stay": plan.deputies_stay,
               "follow_company": plan.follow_company, "allow_active": plan.allow_active}
    transfer = Transfer(from_user_id=sender.id, requested_by_id=requested_by.id if requested_by else None,
                        status="queued", object_types=list(dict.fromkeys(step.object_type for step in steps)),
                        include_closed=plan.include_closed, options=options, total=total, moved=0)
    transfer.steps = [
        TransferStep(position=position, object_type=step.object_type, to_user_id=step.to_user_id,
                     share_take=step.share[0] if step.share else None, share_of=step.share[1] if step.share else None,
                     follow_company=step.follow_company)
        for position, step in enumerate(steps)
    ]
    db.session.add(transfer)
    try:
        db.session.flush()
    except IntegrityError:  # another request planned a transfer of the same user meanwhile
        db.session.rollback()
        refuse_second_transfer(plan.from_user_id)
        raise
    return transfer


# --- running a transfer ------------------------------------------------------------------------


def get_transfer(transfer_id: int, *, lock: bool = False) -> Transfer:
    """The transfer, or 404. ``lock`` loads it for a change of its state (run, resume,
    undo): locked until the transaction ends, on SQLite too (the database's write lock),
    with its current status, so of concurrent requests one acts and the others see what
    it did (an undo claimed twice at once answers 409 to the second)."""
    if not 0 < transfer_id <= MAX_ID:
        raise NotFound(Message("no transfer %(id)s", id=transfer_id))
    if lock:
        transfer = load_for_change(Transfer, transfer_id)
    else:
        transfer = db.session.scalars(select(Transfer).where(Transfer.id == transfer_id)).one_or_none()
    if transfer is None:
        raise NotFound(Message("no transfer %(id)s", id=transfer_id))
    return transfer


def _request_of(transfer: Transfer, step: TransferStep) -> TransferRequest:
    options = {**(transfer.options or {}), "follow_company_only": step.follow_company}
    return TransferRequest(from_user_id=transfer.from_user_id, to_user_id=step.to_user_id,
                           object_types=frozenset({step.object_type}), include_closed=transfer.include_closed,
                           share=step.share, options=options, transfer_id=transfer.id)


def run_step(transfer: Transfer, step: TransferStep) -> int:
    """Move one step's items through every plugin's transfer hook, tagged with the transfer."""
    with change_context(**{TRANSFER_CONTEXT: transfer.id}):
        results = plugins().transfer_user_items(db.session, _request_of(transfer, step))
    counts: dict[str, int] = {}
    for result in results:
        if result.object_type == step.object_type and result.moved:
            counts[result.kind] = counts.get(result.kind, 0) + result.moved
    step.counts = counts
    step.moved = sum(counts.values())
    step.done_at = utcnow()
    return step.moved


def start_run(transfer_id: int) -> Transfer | None:
    """Mark the transfer running (committed); ``None`` when there is nothing left to run."""
    transfer = get_transfer(transfer_id, lock=True)
    if transfer.status not in ("queued", "running", "failed"):
        db.session.rollback()
        return None
    transfer.status = "running"
    transfer.error = None
    transfer.started_at = transfer.started_at or utcnow()
    transfer.heartbeat_at = utcnow()
    db.session.commit()
    return transfer


def run_transfer(transfer_id: int, progress=lambda done, total: None) -> dict[str, Any]:
    """Carry out a transfer: each step not yet done in a transaction of its own, then
    notify the recipients. Safe to run again after a crash, and twice at once (each step
    locks the transfer and is skipped when another run did it)."""
    transfer = start_run(transfer_id)
    if transfer is None:
        return {"transfer_id": transfer_id, "skipped": True}
    try:
        for position in [step.position for step in transfer.steps if step.done_at is None]:
            transfer = get_transfer(transfer_id, lock=True)
            step = next(step for step in transfer.steps if step.position == position)
            if step.done_at is None:
                transfer.moved += run_step(transfer, step)
                transfer.heartbeat_at = utcnow()
            db.session.commit()
            progress(transfer.moved, transfer.total)
        transfer = get_transfer(transfer_id, lock=True)
        transfer.status = "done"
        transfer.finished_at = utcnow()
        notify_recipients(transfer)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        mark_failed(transfer_id, error)
        raise
    return {"transfer_id": transfer_id, "moved": transfer.moved}


def mark_failed(transfer_id: int, error: BaseException) -> None:
    transfer = get_transfer(transfer_id, lock=True)
    transfer.status = "failed"
    transfer.error = error_summary(error)
    transfer.finished_at = utcnow()
    db.session.commit()


def stale_after() -> int:
    return int(current_app.config.get("OFFBOARDING_STALE_AFTER", DEFAULT_STALE_AFTER))


def check_resumable(transfer: Transfer) -> None:
    """A failed run may be resumed, and a running one whose worker stopped beating (died);
    anything else: 409."""
    if transfer.status == "failed":
        return
    if transfer.status == "running":
        quiet_for = (utcnow() - (transfer.heartbeat_at or transfer.created_at)).total_seconds()
        if quiet_for >= stale_after():
            return
        raise Conflict(Message("transfer %(id)s is running (last step %(seconds)s s ago)", id=transfer.id, seconds=int(quiet_for)),
                       {"status": Message("still running; it can be resumed when it has made no progress for %(seconds)s s",
                                          seconds=stale_after())})
    raise Conflict(Message("transfer %(id)s is %(status)s", id=transfer.id, status=transfer.status),
                   {"status": Message("a %(status)s transfer cannot be resumed", status=transfer.status)})


def queue_again(transfer: Transfer) -> None:
    """Resume: the steps not done run again in a new job (the caller commits and enqueues)."""
    check_resumable(transfer)
    transfer.status = "queued"
    transfer.error = None
    transfer.heartbeat_at = utcnow()


# --- what moved (from the change stream) ------------------------------------------------------


def _is_user_reference(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def record_moves(session: Session, change_set: ChangeSet) -> None:
    """The change-stream hook: inside a transfer, remember every user reference that
    changed (``owner_id`` and the like) — set-based changes with ``INSERT … SELECT``."""
    transfer_id = change_set.context.get(TRANSFER_CONTEXT)
    if transfer_id is None:
        return
    columns = ["transfer_id", "object_type", "object_id", "field", "object_name", "old_value", "new_value", "moved_at"]
    for bulk in change_set.bulk:
        if bulk.operation != "update":  # events about the record (owner_assigned…), not its columns
            continue
        for name, value in bulk.new_values.items():
            if not _is_user_reference(value):
                continue
            rows = bulk.rows.c
            source = select(literal(transfer_id, Integer), literal(bulk.object_type, String), rows.object_id,
                            literal(name, String), rows.object_name, rows[f"old_{name}"], literal(value, Integer),
                            literal(change_set.at, MovedItem.moved_at.type))
            session.execute(insert(MovedItem).from_select(columns, source))
    moves = [
        {"transfer_id": transfer_id, "object_type": change.object_type, "object_id": change.object_id, "field": item.field,
         "object_name": change.object_name, "old_value": item.old, "new_value": item.new, "moved_at": change_set.at}
        for change in change_set.records if change.operation == "update"
        for item in change.changes if _is_user_reference(item.new)
    ]
    if moves:
        session.execute(insert(MovedItem), moves)


# --- state -------------------------------------------------------------------------------------


def counts_by_type(transfer: Transfer) -> dict[str, dict[str, int]]:
    """``{object_type: {kind: moved}}`` over the steps done."""
    counts: dict[str, dict[str, int]] = {}
    for step in transfer.steps:
        for kind, count in (step.counts or {}).items():
            per_type = counts.setdefault(step.object_type, {})
            per_type[kind] = per_type.get(kind, 0) + count
    return counts


def counts_by_recipient(transfer: Transfer) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for step in transfer.steps:
        if step.moved:
            per_user = counts.setdefault(step.to_user_id, {})
            per_user[step.object_type] = per_user.get(step.object_type, 0) + step.moved
    return counts


def notify_recipients(transfer: Transfer) -> None:
    """Each recipient learns, in the app, how many items of which types they got and from
    whom. The departed user is told nothing: they are gone."""
    from flask_babel import gettext

    labels = {record_type.name: record_type.label_plural for record_type in record_types()}
    sender = transfer.from_user
    for user_id, per_type in counts_by_recipient(transfer).items():
        total = sum(per_type.values())
        listing = ", ".join(f"{labels.get(name, name)}: {count}" for name, count in per_type.items())
        message = gettext("You received %(count)s items of %(name)s (%(listing)s).", count=total, name=sender.name,
                          listing=listing)
        db.session.add(Notification(user_id=user_id, kind="offboarding.received", message=message,
                                    object_type="offboarding_transfer", object_id=transfer.id,
                                    data={"transfer_id": transfer.id, "from_user_id": sender.id, "counts": per_type}))


def list_transfers(from_user_id: int | None = None, status: str | None = None):
    statement = select(Transfer)
    if from_user_id is not None:
        statement = statement.where(Transfer.from_user_id == from_user_id)
    if status is not None:
        statement = statement.where(Transfer.status == status)
    return statement.order_by(Transfer.id.desc())


def every_moved_item(transfer_id: int):
    """Every item transfer ``transfer_id`` moved, as one subquery with the columns of
    :data:`~opiekun.user_items.MOVED_ITEM_COLUMNS`: the record fields this plugin recorded
    and the rows of their own other plugins moved (``opiekun_moved_items``: deputy periods…)."""
    own = select(*(MovedItem.__table__.c[name] for name in MOVED_ITEM_COLUMNS)).where(MovedItem.transfer_id == transfer_id)
    return union_all(own, *plugins().moved_items(transfer_id)).subquery("moved_items")


def moved_items(transfer_id: int, outcome: str | None = None, kept_only: bool = False):
    """The items of a transfer (all, those with one ``outcome``, or those undo kept), in
    record type, record and field order."""
    items = every_moved_item(transfer_id)
    statement = select(items)
    if kept_only:
        statement = statement.where(items.c.outcome.is_not(None), items.c.outcome != "restored")
    elif outcome is not None:
        statement = statement.where(items.c.outcome == outcome)
    return statement.order_by(items.c.object_type, items.c.object_id, items.c.field, items.c.new_value)


# --- undo --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    restored: int
    kept: int


def _moved_group(transfer_id: int, object_type: str, field_name: str, new_value: int | None, outcome: str | None = None):
    """The moved items of one transfer, type, field and new value, with ``outcome`` (``None``:
    not judged yet)."""
    return and_(MovedItem.transfer_id == transfer_id, MovedItem.object_type == object_type, MovedItem.field == field_name,
                MovedItem.new_value.is_not_distinct_from(new_value), MovedItem.outcome.is_not_distinct_from(outcome))


def _judge_group(record_type: RecordType | None, field_name: str, group) -> None:
    """Mark each moved item of a group: ``restored`` when the record still holds what the
    transfer put there and was not changed since; otherwise why it stays."""
    if record_type is None:  # the plugin that defined the type is off: nothing to put back
        db.session.execute(update(MovedItem).where(group).values(outcome="deleted"))
        return
    model = record_type.model
    column = getattr(model, field_name)
    existing = select(model.id)
    untouched = (select(model.id).where(model.id == MovedItem.object_id, column == MovedItem.new_value,
                                        model.updated_at <= MovedItem.moved_at).exists())
    reassigned = select(model.id).where(column.is_distinct_from(MovedItem.new_value), model.id == MovedItem.object_id).exists()
    db.session.execute(update(MovedItem).where(group, not_(MovedItem.object_id.in_(existing))).values(outcome="deleted"))
    db.session.execute(update(MovedItem).where(group, untouched).values(outcome="restored"))
    db.session.execute(update(MovedItem).where(group, reassigned).values(outcome="reassigned"))
    db.session.execute(update(MovedItem).where(group).values(outcome="changed"))


def _restore_group(record_type: RecordType, field_name: str, restored) -> int:
    """Put back the items of ``restored`` (a group judged ``restored``): one set-based change
    per former value."""
    model = record_type.model
    count = 0
    for old_value in db.session.scalars(select(MovedItem.old_value).where(restored).distinct()).all():
        ids = select(MovedItem.object_id).where(restored, MovedItem.old_value.is_not_distinct_from(old_value))
        count += update_records(db.session, model, model.id.in_(ids), {field_name: old_value})
    return count


def undo_transfer(transfer_id: int, user: User | None) -> UndoResult:
    """Put every moved item back unless it changed since the transfer (those are kept and
    listed with the reason): the record fields this plugin recorded, then, through
    ``opiekun_undo_transfer``, what other plugins moved of their own (deputy periods…).
    All or nothing, in the caller's transaction."""
    transfer = get_transfer(transfer_id, lock=True)
    if transfer.status == "undone":
        raise Conflict(Message("transfer %(id)s was already undone", id=transfer.id), {"status": Message("already undone")})
    if transfer.status not in ("done", "failed"):
        raise Conflict(Message("transfer %(id)s is %(status)s", id=transfer.id, status=transfer.status),
                       {"status": Message("wait until the transfer has finished")})
    registry = record_types()
    groups = db.session.execute(select(MovedItem.object_type, MovedItem.field, MovedItem.new_value)
                                .where(MovedItem.transfer_id == transfer.id, MovedItem.outcome.is_(None))
                                .distinct()).all()
    with change_context(**{UNDO_CONTEXT: transfer.id}):
        for object_type, field_name, new_value in groups:
            record_type = registry.get(object_type)
            _judge_group(record_type, field_name, _moved_group(transfer.id, object_type, field_name, new_value))
            if record_type is not None:
                _restore_group(record_type, field_name,
                               _moved_group(transfer.id, object_type, field_name, new_value, outcome="restored"))
        plugins().undo_transfer(db.session, UndoRequest(transfer.id, transfer.from_user_id))
    totals: Counter[str] = Counter()
    for counts in outcome_counts(transfer.id).values():
        totals.update(counts)
    restored = totals.pop("restored", 0)
    kept = sum(totals.values())
    transfer.status = "undone"
    transfer.undone_at = utcnow()
    transfer.undone_by_id = user.id if user else None
    transfer.restored, transfer.kept = restored, kept
    return UndoResult(restored, kept)


# --- a record list's "Transfer to…" -----------------------------------------------------------


def transfer_selection(record_type: RecordType, condition, to_user_id: int, user: User | None) -> list[Transfer]:
    """Give the records matching ``condition`` whose owner has departed to ``to_user_id``:
    one finished (and undoable) transfer per departed owner, in the caller's transaction.
    Refused (nothing changed) when the selection holds records of active owners."""
    model = record_type.model
    owners = db.session.execute(select(User.id, User.status).where(
        User.id.in_(select(model.owner_id).where(condition).distinct()))).all()
    active = [owner_id for owner_id, status in owners if status != "departed"]
    if active:
        raise Invalid(Message("the selection holds records of active users"),
                      {"selection": Message("%(count)s of the owners are active; filter by “owner is departed”", count=len(active))})
    transfers = []
    for owner_id, _status in owners:
        plan = TransferPlan(from_user_id=owner_id, to_user_id=to_user_id, object_types=(record_type.name,))
        sender = _check_sender(plan)
        _check_recipient(to_user_id, sender, "to_user_id")
        refuse_second_transfer(owner_id)
        transfer = Transfer(from_user_id=owner_id, requested_by_id=user.id if user else None, origin="list",
                            status="running", object_types=[record_type.name], include_closed=True, options={},
                            started_at=utcnow(), moved=0, total=0)
        step = TransferStep(position=0, object_type=record_type.name, to_user_id=to_user_id)
        transfer.steps = [step]
        db.session.add(transfer)
        db.session.flush()
        with change_context(**{TRANSFER_CONTEXT: transfer.id}):
            moved = update_records(db.session, model, and_(condition, model.owner_id == owner_id), {"owner_id": to_user_id})
        step.moved, step.counts, step.done_at = moved, {"owner": moved}, utcnow()
        transfer.moved = transfer.total = moved
        transfer.status, transfer.finished_at = "done", utcnow()
        notify_recipients(transfer)
        transfers.append(transfer)
    return transfers



def notify_admins_of_departure(session: Session, user: User, actor) -> None:
    """One in-app notification per active administrator (the one who acted included)."""
    from flask_babel import gettext

    message = gettext("%(name)s has departed: review and reassign their items.", name=user.name)
    admins = session.scalars(select(User.id).where(User.role == "admin", User.status == "active", User.id != user.id)).all()
    session.add_all(Notification(user_id=admin_id, kind="offboarding.departed", message=message, object_type="user",
                                 object_id=user.id, data={"user_id": user.id}) for admin_id in admins)


# --- starting and resuming (the API and the admin panel) ---------------------------------------


def start_job(transfer: Transfer, user: User) -> None:
    """Have the transfer's job queued when the caller commits (never if it rolls back)."""
    transfer.job_id = enqueue_on_commit(jobs.TRANSFER, user_id=user.id, user_name=user.name, transfer_id=transfer.id)


def start_transfer(plan: TransferPlan, user: User) -> Transfer:
    """Plan the transfer (refused, nothing saved, when the plan is wrong) and start its job
    on commit; the caller commits."""
    transfer = create_transfer(plan, user)
    start_job(transfer, user)
    return transfer


def resume_transfer(transfer_id: int, user: User) -> Transfer:
    """Queue the steps not yet done of a failed or stale transfer again (409 otherwise);
    the caller commits."""
    transfer = get_transfer(transfer_id, lock=True)
    queue_again(transfer)
    start_job(transfer, user)
    return transfer


def is_resumable(transfer: Transfer) -> bool:
    """Whether :func:`resume_transfer` would accept the transfer now."""
    try:
        check_resumable(transfer)
    except Conflict:
        return False
    return True


def outcome_counts(transfer_id: int) -> dict[tuple[str, str], dict[str, int]]:
    """After undo: ``{(object_type, what): {outcome: count}}`` — what was put back, what was
    kept. ``what`` is the moved field (``owner_id``…) of a record, or the kind of item a
    plugin moved of its own (``deputy``, ``planned_owner``…)."""
    items = every_moved_item(transfer_id)
    rows = db.session.execute(select(items.c.object_type, items.c.field, items.c.outcome, func.count())
                              .where(items.c.outcome.is_not(None))
                              .group_by(items.c.object_type, items.c.field, items.c.outcome)).all()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for object_type, what, outcome, count in rows:
        counts.setdefault((object_type, what), {})[outcome] = count
    return counts
