"""Offboarding's side of ownership: a departing user's deputy periods and planned primary
periods are handed over to another user (:func:`transfer_assignments`), deputies may take
over the records they stand in for (:func:`promote_deputies`) or lose them with the records
(:func:`end_deputies_of_moving_records`), and a transfer is undone
(:func:`undo_handovers`). Every period a transfer handed over or ended is kept in
``ownership_handovers`` for the undo and for the transfer's list of items
(:func:`handed_over`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence

from sqlalchemy import Date, Integer, Row, and_, case, func, insert, literal, not_, null, or_, select, update
from sqlalchemy.orm import Session

from opiekun.plugin import (
    RecordBatch,
    RecordType,
    User,
    current_actor,
    db,
    in_share,
    record_types,
    records_to_move,
    update_records,
    utcnow,
)
from opiekun.plugins.ownership.models import OwnerAssignment, OwnerHandover
from opiekun.plugins.ownership.periods import PERIOD_COLUMNS, assignments_table, end_periods, in_force, today

#: The table of the periods transfers handed over or ended (``ownership_handovers``).
handovers_table = OwnerHandover.__table__

#: How offboarding names a period handed over, by the period's kind: a primary period that
#: is handed over is one that starts later.
ITEM_KINDS = {"deputy": "deputy", "primary": "planned_owner"}

#: Periods handed over per statement (the ids are bound as parameters).
HANDOVER_CHUNK = 5000


def deputy_counts(user_id: int) -> list[tuple[RecordType, int, int]]:
    """Per record type: the user's deputy periods in force or planned, and primary periods
    planned to start later (both move with offboarding)."""
    day = today()
    rows = db.session.execute(
        select(assignments_table.c.object_type, assignments_table.c.kind, func.count())
        .where(assignments_table.c.user_id == user_id, _still_to_come(day))
        .group_by(assignments_table.c.object_type, assignments_table.c.kind)
    ).all()
    counts: dict[str, list[int]] = {}
    for object_type, kind, count in rows:
        counts.setdefault(object_type, [0, 0])[0 if kind == "deputy" else 1] += count
    return [
        (record_types().get(name), deputies, planned)
        for name, (deputies, planned) in counts.items()
        if record_types().get(name) is not None
    ]


def _still_to_come(day: dt.date):
    """SQL: deputy periods not ended before ``day``, and primary periods starting after it
    (what offboarding moves; a primary period under way moves with ``owner_id``)."""
    return and_(
        or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to >= day),
        or_(assignments_table.c.kind == "deputy", assignments_table.c.valid_from > day),
    )


def _known_types(names: Iterable[str]) -> Iterator[RecordType]:
    """The registered record types among ``names`` (a type whose plugin is off is skipped)."""
    registry = record_types()
    return (registry.get(name) for name in names if registry.get(name) is not None)


def transfer_assignments(
    session: Session,
    from_user_id: int,
    to_user_id: int,
    object_types: Iterable[str],
    include_closed: bool = True,
    share: tuple[int, int] | None = None,
    transfer_id: int | None = None,
) -> dict[tuple[str, str], int]:
    """Hand the user's deputy periods (in force or planned) and planned primary periods
    to another user, set-based: periods under way end yesterday and continue from today
    under the new user; planned ones simply change hands. With ``transfer_id``, every
    period handed over is kept in ``ownership_handovers`` for :func:`undo_handovers`.
    Idempotent. Returns how many periods moved per record type and kind of item
    (``deputy``, ``planned_owner``)."""
    day = today()
    moved: Counter[tuple[str, str]] = Counter()
    for record_type in _known_types(object_types):
        selected = and_(
            assignments_table.c.object_type == record_type.name,
            assignments_table.c.user_id == from_user_id,
            _still_to_come(day),
        )
        if not include_closed and record_type.closed is not None:
            open_records = select(record_type.model.id).where(not_(record_type.closed()))
            selected = and_(selected, assignments_table.c.object_id.in_(open_records))
        if share is not None:
            selected = and_(selected, in_share(assignments_table.c.id, selected, share))
        # fix the share's rows before the statements below change what ``selected`` matches
        periods = session.execute(select(assignments_table.c.id, assignments_table.c.kind).where(selected)).all()
        if not periods:
            continue
        moved.update((record_type.name, ITEM_KINDS[kind]) for _, kind in periods)
        chosen = [period_id for period_id, _ in periods]
        _announce_handover(session, record_type, selected, {from_user_id: to_user_id})
        for start in range(0, len(chosen), HANDOVER_CHUNK):
            handed = _hand_over_periods(session, chosen[start : start + HANDOVER_CHUNK], to_user_id, day)
            if transfer_id is not None:
                _keep_handovers(session, record_type, transfer_id, from_user_id, to_user_id, handed)
    return dict(moved)


def _keep_handovers(
    session: Session,
    record_type: RecordType,
    transfer_id: int,
    from_user_id: int,
    to_user_id: int,
    handed: Sequence[Row],
) -> None:
    """Keep the periods a transfer handed over (as :func:`_hand_over_periods` returns them)
    in ``ownership_handovers``, with their records' names, for undo and the transfer's list."""
    model = record_type.model
    names = dict(
        session.execute(
            select(model.id, model.display_name_expression()).where(
                model.id.in_({period.object_id for period in handed})
            )
        ).all()
    )
    now = utcnow()
    session.execute(
        insert(handovers_table),
        [
            {
                "transfer_id": transfer_id,
                "period_id": period.id,
                "object_type": period.object_type,
                "object_id": period.object_id,
                "object_name": names.get(period.object_id),
                "kind": period.kind,
                "from_user_id": from_user_id,
                "to_user_id": to_user_id,
                "valid_from": period.valid_from,
                "valid_to": period.valid_to,
                "moved_at": now,
            }
            for period in handed
        ],
    )


def _announce_handover(session: Session, record_type: RecordType, periods, new_users: Mapping[int, int]) -> None:
    """One ``owner_assigned`` event per record whose periods (``periods``, a condition on
    them) change hands, from each user in ``new_users`` to the user it maps to: the
    history shows the deputy's change, naming the transfer (or its undo) in its context."""
    model = record_type.model
    for from_user_id, to_user_id in new_users.items():
        with RecordBatch(session, {"user_id": Integer}) as batch:
            theirs = select(assignments_table.c.object_id).where(periods, assignments_table.c.user_id == from_user_id)
            source = select(model.id, model.display_name_expression(), literal(from_user_id, Integer)).where(
                model.id.in_(theirs)
            )
            count = batch.add(source, old_fields=["user_id"])
            batch.announce(record_type.name, "owner_assigned", {"user_id": to_user_id}, count=count)


def _hand_over_periods(session: Session, ids: Sequence[int], to_user_id: int, day: dt.date) -> list[Row]:
    """Periods under way end yesterday and continue from today under ``to_user_id``; planned
    ones change hands. Returns the periods ``to_user_id`` now holds (the continuations and
    the planned ones): id, object_type, object_id, kind, valid_from, valid_to."""
    chosen = assignments_table.c.id.in_(ids)
    under_way = and_(chosen, assignments_table.c.valid_from < day)
    held = (
        assignments_table.c.id,
        assignments_table.c.object_type,
        assignments_table.c.object_id,
        assignments_table.c.kind,
        assignments_table.c.valid_from,
        assignments_table.c.valid_to,
    )
    copy = select(
        assignments_table.c.object_type,
        assignments_table.c.object_id,
        literal(to_user_id, Integer),
        assignments_table.c.kind,
        assignments_table.c.role,
        literal(day, Date),
        assignments_table.c.valid_to,
        assignments_table.c.access,
        assignments_table.c.created_by_id,
        literal(utcnow(), OwnerAssignment.created_at.type),
    ).where(under_way)
    continued = session.execute(insert(assignments_table).from_select(PERIOD_COLUMNS, copy).returning(*held)).all()
    session.execute(update(assignments_table).where(under_way).values(valid_to=day - dt.timedelta(days=1)))
    planned = session.execute(
        update(assignments_table)
        .where(chosen, assignments_table.c.valid_from >= day)
        .values(user_id=to_user_id)
        .returning(*held)
    ).all()
    return continued + planned


def handed_over(transfer_id: int):
    """The periods transfer ``transfer_id`` handed over or ended, as the transfer's items
    (the columns of :data:`opiekun.user_items.MOVED_ITEM_COLUMNS`): the kind of item, the
    user who held it before and the one after (none: the period ended), and after undo the
    outcome."""
    return select(
        handovers_table.c.object_type,
        handovers_table.c.object_id,
        handovers_table.c.object_name,
        case(ITEM_KINDS, value=handovers_table.c.kind).label("field"),
        handovers_table.c.from_user_id.label("old_value"),
        handovers_table.c.to_user_id.label("new_value"),
        handovers_table.c.moved_at,
        handovers_table.c.outcome,
    ).where(handovers_table.c.transfer_id == transfer_id)


def undo_handovers(session: Session, transfer_id: int, from_user_id: int) -> None:
    """Hand the periods transfer ``transfer_id`` handed over back to ``from_user_id`` (as a
    hand-over: under way since before today, they end yesterday and continue under the
    former user), except those that changed since: deleted, given to someone else, or with
    other dates or kind; those stay, their outcome saying why (:func:`handed_over` lists
    them). Each hand-over is judged once."""
    pending = and_(handovers_table.c.transfer_id == transfer_id, handovers_table.c.outcome.is_(None))
    _judge_handovers(session, pending)
    _hand_back(session, pending, from_user_id)


def _judge_handovers(session: Session, pending) -> None:
    """Mark the hand-overs (``pending``) whose period is gone, held by someone else than the
    transfer left it with, or has other dates or kind than the transfer left it with; and
    the vanished periods whose user stands in on the record again (made anew since)."""
    period = select(assignments_table.c.id).where(assignments_table.c.id == handovers_table.c.period_id)
    left_with = func.coalesce(handovers_table.c.to_user_id, handovers_table.c.from_user_id)
    other_dates_or_kind = or_(
        assignments_table.c.kind != handovers_table.c.kind,
        assignments_table.c.valid_from != handovers_table.c.valid_from,
        assignments_table.c.valid_to.is_distinct_from(handovers_table.c.valid_to),
    )
    left = and_(pending, handovers_table.c.vanished.is_(False))
    for outcome, condition in (
        ("deleted", ~period.exists()),
        ("reassigned", period.where(assignments_table.c.user_id != left_with).exists()),
        ("changed", period.where(other_dates_or_kind).exists()),
    ):
        session.execute(update(handovers_table).where(left, condition).values(outcome=outcome))
    made_again = (
        select(assignments_table.c.id)
        .where(
            assignments_table.c.object_type == handovers_table.c.object_type,
            assignments_table.c.object_id == handovers_table.c.object_id,
            assignments_table.c.user_id == handovers_table.c.from_user_id,
            assignments_table.c.kind == handovers_table.c.kind,
            or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to >= handovers_table.c.valid_from),
            or_(
                handovers_table.c.previous_valid_to.is_(None),
                assignments_table.c.valid_from <= handovers_table.c.previous_valid_to,
            ),
        )
        .exists()
    )
    session.execute(
        update(handovers_table)
        .where(pending, handovers_table.c.vanished.is_(True), made_again)
        .values(outcome="changed")
    )


def _hand_back(session: Session, pending, from_user_id: int) -> None:
    """Hand the periods of the hand-overs left in ``pending`` back to ``from_user_id`` (one
    event per record and former holder) and re-open the periods the transfer ended; those
    of record types no longer registered (their plugin is off) cannot be and count as
    deleted."""
    registry = record_types()
    known = and_(pending, handovers_table.c.object_type.in_(registry.names()))
    periods: dict[str, list[int]] = {}
    holders: dict[str, set[int]] = {}
    handed = select(handovers_table.c.object_type, handovers_table.c.to_user_id, handovers_table.c.period_id).where(
        known, handovers_table.c.to_user_id.is_not(None)
    )
    for object_type, to_user_id, period_id in session.execute(handed):
        periods.setdefault(object_type, []).append(period_id)
        holders.setdefault(object_type, set()).add(to_user_id)
    day = today()
    for object_type, ids in periods.items():
        for start in range(0, len(ids), HANDOVER_CHUNK):
            chunk = ids[start : start + HANDOVER_CHUNK]
            _announce_handover(
                session,
                registry.get(object_type),
                assignments_table.c.id.in_(chunk),
                dict.fromkeys(holders[object_type], from_user_id),
            )
            _hand_over_periods(session, chunk, from_user_id, day)
    _reopen_ended(session, and_(known, handovers_table.c.to_user_id.is_(None), handovers_table.c.vanished.is_(False)))
    _make_vanished_again(session, and_(known, handovers_table.c.vanished.is_(True)))
    session.execute(update(handovers_table).where(known).values(outcome="restored"))
    session.execute(update(handovers_table).where(pending).values(outcome="deleted"))


def _reopen_ended(session: Session, ended) -> None:
    """The periods of the hand-overs ``ended`` run on until the end they had before the transfer."""
    previous_end = (
        select(handovers_table.c.previous_valid_to)
        .where(ended, handovers_table.c.period_id == assignments_table.c.id)
        .scalar_subquery()
    )
    session.execute(
        update(assignments_table)
        .where(assignments_table.c.id.in_(select(handovers_table.c.period_id).where(ended)))
        .values(valid_to=previous_end)
    )


def _make_vanished_again(session: Session, vanished) -> None:
    """The periods of the hand-overs ``vanished`` (ended by a transfer on the day they
    began) are made again as they were, on the records that still exist; those of deleted
    records count as deleted."""
    actor_id = current_actor().user_id
    for record_type in _known_types(
        session.scalars(select(handovers_table.c.object_type).where(vanished).distinct()).all()
    ):
        of_type = and_(vanished, handovers_table.c.object_type == record_type.name)
        record_gone = handovers_table.c.object_id.not_in(select(record_type.model.id))
        session.execute(update(handovers_table).where(of_type, record_gone).values(outcome="deleted"))
        again = select(
            handovers_table.c.object_type,
            handovers_table.c.object_id,
            handovers_table.c.from_user_id,
            handovers_table.c.kind,
            handovers_table.c.role,
            handovers_table.c.valid_from,
            handovers_table.c.previous_valid_to,
            handovers_table.c.access,
            literal(actor_id, Integer) if actor_id else null(),
            literal(utcnow(), OwnerAssignment.created_at.type),
        ).where(of_type)
        session.execute(insert(assignments_table).from_select(PERIOD_COLUMNS, again))


def _deputies_in_force(object_type: str, day: dt.date, but_not: int):
    """SQL: the deputy periods of ``object_type`` in force on ``day``, but those of user ``but_not``."""
    return and_(
        assignments_table.c.object_type == object_type,
        assignments_table.c.kind == "deputy",
        in_force(day),
        assignments_table.c.user_id != but_not,
    )


def promote_deputies(
    session: Session,
    from_user_id: int,
    object_types: Iterable[str],
    include_closed: bool = True,
    transfer_id: int | None = None,
) -> dict[str, int]:
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
        deputy_of = and_(
            _deputies_in_force(record_type.name, day, from_user_id),
            assignments_table.c.user_id.in_(select(User.id).where(User.status == "active")),
        )
        deputies = session.scalars(
            select(assignments_table.c.user_id)
            .where(deputy_of, assignments_table.c.object_id.in_(select(model.id).where(owned)))
            .distinct()
            .order_by(assignments_table.c.user_id)
        ).all()
        for deputy_id in deputies:
            their_records = select(assignments_table.c.object_id).where(
                deputy_of, assignments_table.c.user_id == deputy_id
            )
            count = update_records(session, model, and_(owned, model.id.in_(their_records)), {"owner_id": deputy_id})
            now_theirs = select(model.id).where(model.owner_id == deputy_id)
            their_periods = and_(
                deputy_of, assignments_table.c.user_id == deputy_id, assignments_table.c.object_id.in_(now_theirs)
            )
            _end_for_transfer(session, record_type, their_periods, day, transfer_id)
            promoted[record_type.name] = promoted.get(record_type.name, 0) + count
    return promoted


def end_deputies_of_moving_records(session: Session, request) -> None:
    """Salesforce's "keep the account team" unticked: the deputy periods of other users on
    the records this transfer request is about to move end (yesterday, or vanish if they
    began today; kept for undo). ``request`` is an :class:`opiekun.user_items.TransferRequest`."""
    day = today()
    for record_type in _known_types(request.object_types):
        moving = records_to_move(record_type, request.from_user_id, request.include_closed, request.share)
        deputies = and_(
            _deputies_in_force(record_type.name, day, request.from_user_id),
            assignments_table.c.object_id.in_(select(record_type.model.id).where(moving)),
        )
        _end_for_transfer(session, record_type, deputies, day, request.transfer_id)


def _end_for_transfer(
    session: Session, record_type: RecordType, current, day: dt.date, transfer_id: int | None
) -> None:
    """:func:`end_periods` for a transfer: with ``transfer_id``, the periods of
    ``record_type`` that end are kept in ``ownership_handovers`` first, with the end they
    had, so that undo can re-open them; those that vanish, having begun today, with what
    undo needs to make them again."""
    if transfer_id is not None:
        _keep_ending(session, record_type, current, day, transfer_id)
    end_periods(session, current, day)


def _keep_ending(session: Session, record_type: RecordType, current, day: dt.date, transfer_id: int) -> None:
    """Keep the periods ``current`` that a transfer ends on ``day`` in ``ownership_handovers``."""
    model = record_type.model
    name = select(model.display_name_expression()).where(model.id == assignments_table.c.object_id).scalar_subquery()
    vanishes = assignments_table.c.valid_from >= day
    left_until = case((vanishes, null()), else_=literal(day - dt.timedelta(days=1), Date))
    ending = select(
        literal(transfer_id, Integer),
        assignments_table.c.id,
        assignments_table.c.object_type,
        assignments_table.c.object_id,
        name,
        assignments_table.c.kind,
        assignments_table.c.user_id,
        left_until,
        assignments_table.c.valid_from,
        assignments_table.c.valid_to,
        vanishes,
        assignments_table.c.role,
        assignments_table.c.access,
        literal(utcnow(), handovers_table.c.moved_at.type),
    ).where(current)
    session.execute(
        insert(handovers_table).from_select(
            [
                "transfer_id",
                "period_id",
                "object_type",
                "object_id",
                "object_name",
                "kind",
                "from_user_id",
                "valid_to",
                "valid_from",
                "previous_valid_to",
                "vanished",
                "role",
                "access",
                "moved_at",
            ],
            ending,
        )
    )
