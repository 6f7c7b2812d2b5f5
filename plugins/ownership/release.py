"""Owners released after days without activity: the per-type setting ``inactivity_days``,
applied by the daily job ``ownership.release_inactive``. Each former owner is told with a
notification."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext
from sqlalchemy import String, and_, exists, insert, literal, not_, select

from opiekun.plugin import Notification, RecordType, change_context, db, record_types, update_records, utcnow
from opiekun.plugins.ownership.models import OwnershipSettings
from opiekun.plugins.ownership.periods import assignments_table


def release_inactive(now: dt.datetime | None = None) -> dict[str, int]:
    """Remove the owner from records without activity for the type's ``inactivity_days``
    and tell each former owner with a notification. Activity: any change of the record
    (its ``updated_at``) or a new owner period on it. Returns how many records each type
    released."""
    now = now or utcnow()
    released = {}
    for settings in db.session.scalars(select(OwnershipSettings).where(OwnershipSettings.inactivity_days.is_not(None))):
        record_type = record_types().get(settings.object_type)
        if record_type is not None:
            released[record_type.name] = _release(record_type, settings.inactivity_days, now)
    return released


def _release(record_type: RecordType, inactivity_days: int, now: dt.datetime) -> int:
    """Release the records of ``record_type`` idle for ``inactivity_days`` before ``now``,
    set-based: one ``INSERT … SELECT`` of notifications, one update of the records."""
    model = record_type.model
    cutoff = now - dt.timedelta(days=inactivity_days)
    recent_period = exists().where(
        assignments_table.c.object_type == record_type.name,
        assignments_table.c.object_id == model.id,
        assignments_table.c.created_at >= cutoff,
    )
    stale = and_(model.owner_id.is_not(None), model.updated_at < cutoff, not_(recent_period))
    prefix = gettext("You are no longer the owner of %(label)s ", label=record_type.label.lower())
    suffix = gettext(": no activity for %(days)d days.", days=inactivity_days)
    message = literal(prefix + "\u201e") + model.display_name_expression() + literal("\u201d" + suffix)
    notices = select(
        model.owner_id,
        literal("ownership.released", String),
        message,
        literal(record_type.name, String),
        model.id,
        literal(now, Notification.created_at.type),
    ).where(stale)
    db.session.execute(
        insert(Notification).from_select(
            ["user_id", "kind", "message", "object_type", "object_id", "created_at"], notices
        )
    )
    with change_context(ownership_release=True):
        return update_records(db.session, model, stale, {"owner_id": None})
