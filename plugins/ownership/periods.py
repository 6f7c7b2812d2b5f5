"""Owner periods as SQL: the words the other modules build their statements from.

An *assignment* is one period (``valid_from`` … ``valid_to``, both days included, no end =
indefinite) during which a user looks after a record as its *primary* owner or as a
*deputy*. Days are UTC days. The statements work on the table itself
(:data:`assignments_table`), not the ORM class, so that set-based writes stay plain SQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, or_, select, true, update
from sqlalchemy.orm import Session

from opiekun.plugin import Invalid, Message, company_today, db
from opiekun.plugins.ownership.models import OwnerAssignment

#: The table of owner periods (``ownership_assignments``).
assignments_table = OwnerAssignment.__table__

#: The columns a new period is written with (``INSERT … SELECT``), in this order.
PERIOD_COLUMNS = (
    "object_type",
    "object_id",
    "user_id",
    "kind",
    "role",
    "valid_from",
    "valid_to",
    "access",
    "created_by_id",
    "created_at",
)

#: The fields of a period that its events (``owner_assigned``, ``owner_assignment_changed``,
#: ``owner_unassigned``) carry, with their SQL types: the ``old_*`` columns of the
#: :class:`~opiekun.changes.RecordBatch` of a bulk assignment.
PERIOD_EVENT_FIELDS = {
    name: assignments_table.c[name].type for name in ("user_id", "kind", "role", "valid_from", "valid_to", "access")
}


def today() -> dt.date:
    """Ownership days are the company's days (:func:`opiekun.local_time.today`)."""
    return company_today()


def in_force(day: dt.date):
    """SQL: the period is in force on ``day``."""
    return and_(
        assignments_table.c.valid_from <= day,
        or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to >= day),
    )


def overlapping(valid_from: dt.date, valid_to: dt.date | None):
    """SQL: the period shares at least one day with ``valid_from … valid_to``."""
    starts_in_time = assignments_table.c.valid_from <= valid_to if valid_to is not None else true()
    return and_(starts_in_time, or_(assignments_table.c.valid_to.is_(None), assignments_table.c.valid_to >= valid_from))


def deputy_with_write_access(user_id: int, object_type: str, object_id_column, day: dt.date):
    """SQL: ``user_id`` is a deputy with write access, on ``day``, of the record whose id is
    ``object_id_column`` (a column, to correlate with a query of records, or one id)."""
    return exists().where(
        assignments_table.c.object_type == object_type,
        assignments_table.c.object_id == object_id_column,
        assignments_table.c.kind == "deputy",
        assignments_table.c.access == "write",
        assignments_table.c.user_id == user_id,
        in_force(day),
    )


def has_write_deputyship(user_id: int, object_type: str, object_id: int) -> bool:
    """Whether ``user_id`` is today a deputy with write access of the record."""
    return bool(db.session.scalar(select(deputy_with_write_access(user_id, object_type, object_id, today()))))


def check_period(valid_from: dt.date, valid_to: dt.date | None) -> None:
    """A period may not end before it starts (422 naming ``valid_to``)."""
    if valid_to is not None and valid_to < valid_from:
        raise Invalid(
            Message("the period ends before it starts"),
            {"valid_to": Message("must not be before valid_from (%(day)s)", day=valid_from.isoformat())},
        )


def end_periods(session: Session, current, day: dt.date) -> None:
    """The periods matching ``current`` (in force on ``day``) end the day before, or vanish
    if they begin that day."""
    session.execute(delete(assignments_table).where(current, assignments_table.c.valid_from == day))
    session.execute(update(assignments_table).where(current).values(valid_to=day - dt.timedelta(days=1)))
