"""The plugin's tables: owner assignments (who owns which record, as what, from when to
when) and the per-record-type settings.

Imported only by the plugin's hooks, so a deployment with the plugin off has no such tables.

An assignment names its record by ``object_type`` (a registered record type, built-in or a
partner's) and ``object_id``; there is no foreign key, because the record may live in any
table. The database forbids two primary periods of one record that share a day: triggers
named ``ownership_no_overlapping_primary`` check every written period against the record's
others (per statement on PostgreSQL, per row on SQLite; see migration ownership_0004; a
period an UPDATE only shortened is not checked again, ownership_0008), and
``ux_ownership_one_open_primary`` allows one open-ended primary period per record. The
services check first, to answer with a clear 409, and lock the records they give periods to.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opiekun.plugin import UNDO_OUTCOMES, User, UTCDateTime, db, enum_check, utcnow

KINDS = ("primary", "deputy")
ACCESS_LEVELS = ("read", "write")
OVERLAP_POLICIES = ("keep", "warn", "replace")
#: The roles offered until an admin configures the list (``PATCH /api/v1/ownership/options``).
DEFAULT_ROLES = ("sales", "service", "legal", "finance")

#: The primary periods without an end (one per record at most).
OPEN_PRIMARY = "kind = 'primary' AND valid_to IS NULL"


class OwnerAssignment(db.Model):
    """One period during which ``user_id`` looks after one record, as its primary owner or
    as a deputy (who stands in while the primary is away), in a role (sales, legal…).

    ``valid_to`` is the last day of the period (``None``: indefinite). ``access`` says what a
    deputy may do with the record (``read`` or ``write``); primaries always have ``write``.
    """

    __tablename__ = "ownership_assignments"
    __table_args__ = (
        enum_check("kind", KINDS),
        enum_check("access", ACCESS_LEVELS),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period_not_reversed"),
        # "owner of record R on day D" and a record's history: a record has few periods
        Index("ix_ownership_assignments_object", "object_type", "object_id", "valid_from"),
        # "portfolio of user U in a period", newest first: (valid_from, id) is the page's order,
        # so a page reads only its own rows; valid_to makes the count an index-only scan
        Index("ix_ownership_assignments_user", "user_id", "valid_from", "id", "valid_to"),
        # at most one open-ended primary period per record (the overlap check's concurrent case)
        Index(
            "ux_ownership_one_open_primary",
            "object_type",
            "object_id",
            unique=True,
            sqlite_where=text(OPEN_PRIMARY),
            postgresql_where=text(OPEN_PRIMARY),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10), default="primary")
    role: Mapped[str] = mapped_column(String(50))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    access: Mapped[str] = mapped_column(String(10), default="write")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(User, foreign_keys=[user_id])

    def in_force_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


class OwnerHandover(db.Model):
    """One period a transfer (``TransferRequest.transfer_id``) handed over or ended, for undo.

    Handed over: a deputy period or a planned primary period of ``from_user_id`` that
    ``period_id`` now gives to ``to_user_id`` (the continuation from the transfer's day, or
    the planned period itself). Ended (``to_user_id`` empty): another user's deputy period
    that the transfer ended (deputies promoted, or not kept with the records), held by
    ``from_user_id``, which ran until ``previous_valid_to`` (or ``vanished``, having begun
    that day). Undo compares the period with
    ``kind``, ``valid_from`` and ``valid_to`` as the transfer left them."""

    __tablename__ = "ownership_handovers"
    __table_args__ = (enum_check("outcome", UNDO_OUTCOMES),)

    transfer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    previous_valid_to: Mapped[dt.date | None] = mapped_column(Date)
    #: an ended period that began on the transfer's day: it vanished (a period cannot end
    #: before it begins); undo makes it again, from ``valid_from`` to ``previous_valid_to``,
    #: with its ``role`` and ``access``
    vanished: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    role: Mapped[str | None] = mapped_column(String(50))
    access: Mapped[str | None] = mapped_column(String(10))
    #: the record's name when the transfer ran (listed with the transfer's items)
    object_name: Mapped[str | None] = mapped_column(String(500))
    #: when the transfer handed the period over or ended it (empty in rows older than that)
    moved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: ``None`` until undo judged it
    outcome: Mapped[str | None] = mapped_column(String(10))


class OwnershipSettings(db.Model):
    """Per record type (admin only): owner required, release after N days without
    activity, and which roles may change owners (``None``: every role)."""

    __tablename__ = "ownership_settings"

    object_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    owner_required: Mapped[bool] = mapped_column(Boolean, default=False)
    inactivity_days: Mapped[int | None] = mapped_column(Integer)
    change_roles: Mapped[list[str] | None] = mapped_column(JSON)
