"""Back on after a time off: owner periods caught up with the records changed meanwhile.

While the plugin was off, records were deleted (their periods stayed), created (with an
owner and no period), and given other owners in forms or through the API (no period
followed); planned periods that began or ended meanwhile did not change ``owner_id``.
:func:`catch_up` brings the two in line, set-based, one record type after the other:

1. periods of records that no longer exist are removed;
2. a record whose ``owner_id`` differs from its primary owner on the day the plugin went
   off (and from today's) was given that owner by someone meanwhile: its primary period
   ends yesterday and the given owner's starts today (as :func:`~.sync.follow_owner_changes`
   does for a change it hears of);
3. records created meanwhile get their first period (:func:`~.sync.backfill_assignments`);
4. every other record follows its periods (:func:`~.sync.sync_owners`): planned changes
   of the time off take effect.

It is idempotent: a second run finds nothing to change.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, exists, not_, select, true
from sqlalchemy.orm import Session

from opiekun.plugin import Message, PluginGap, PluralMessage, RecordType, as_local, deployment_time_zone, record_types
from opiekun.plugins.ownership.periods import assignments_table, in_force, today
from opiekun.plugins.ownership.sync import backfill_assignments, follow_owner_changes, sync_owners

#: Records per statement when following owners given meanwhile (bound parameters: well under
#: SQLite's 32,766; each statement costs a scan of the periods, so fewer is faster).
CHUNK = 5000


def catch_up(session: Session, gap: PluginGap) -> list[Message]:
    """Periods and owners of every record type in line after ``gap``; what changed (no
    line for what found nothing to do)."""
    day_off = as_local(gap.off_from, deployment_time_zone()).date()
    removed = given = first = followed = 0
    for record_type in record_types():
        removed += _remove_periods_of_deleted_records(session, record_type)
        given += _follow_owners_given_meanwhile(session, record_type, day_off)
        first += backfill_assignments(record_type, true())
        followed += sync_owners(record_type, backfill=False)
    lines = [
        PluralMessage(
            "%(num)d owner period of records deleted meanwhile removed",
            "%(num)d owner periods of records deleted meanwhile removed",
            removed,
        ),
        PluralMessage(
            "%(num)d record was given another owner meanwhile: that owner's period starts today",
            "%(num)d records were given another owner meanwhile: their owners' periods start today",
            given,
        ),
        PluralMessage(
            "%(num)d record created meanwhile got its first owner period",
            "%(num)d records created meanwhile got their first owner period",
            first,
        ),
        PluralMessage(
            "%(num)d record took the owner its periods name (changes planned for the time off)",
            "%(num)d records took the owner their periods name (changes planned for the time off)",
            followed,
        ),
    ]
    return [line for line in lines if line.num]


def _remove_periods_of_deleted_records(session: Session, record_type: RecordType) -> int:
    model = record_type.model
    orphaned = and_(
        assignments_table.c.object_type == record_type.name,
        not_(exists().where(model.id == assignments_table.c.object_id)),
    )
    return session.execute(delete(assignments_table).where(orphaned)).rowcount


def _follow_owners_given_meanwhile(session: Session, record_type: RecordType, day_off: dt.date) -> int:
    model = record_type.model
    primary = and_(
        assignments_table.c.object_type == record_type.name,
        assignments_table.c.object_id == model.id,
        assignments_table.c.kind == "primary",
    )

    def owner_on(day: dt.date):
        return select(assignments_table.c.user_id).where(primary, in_force(day)).limit(1).scalar_subquery()

    given_meanwhile = and_(
        exists().where(primary),
        model.owner_id.is_distinct_from(owner_on(day_off)),
        model.owner_id.is_distinct_from(owner_on(today())),  # not caught up with already
    )
    given = session.execute(select(model.id, model.owner_id).where(given_meanwhile).order_by(model.id)).all()
    by_owner: dict[int | None, list[int]] = {}
    for record_id, owner_id in given:
        by_owner.setdefault(owner_id, []).append(record_id)
    # the ids are read first: ending a period changes what "given meanwhile" selects
    for owner_id, record_ids in by_owner.items():
        for start in range(0, len(record_ids), CHUNK):
            ids = select(model.id).where(model.id.in_(record_ids[start : start + CHUNK]))
            follow_owner_changes(session, record_type, ids, owner_id, None)
    return len(given)
