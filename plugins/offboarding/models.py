"""The offboarding plugin's tables: transfers, their steps, and every item they moved.

Imported only by the plugin's hooks, so a deployment with offboarding switched off has
none of these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opiekun.plugin import UNDO_OUTCOMES, User, UTCDateTime, db, enum_check, utcnow

#: ``queued`` → ``running`` → ``done`` (or ``failed``, resumable) → ``undone``.
STATUSES = ("queued", "running", "done", "failed", "undone")
#: A transfer in one of these holds its user: a second one is refused (409).
UNDER_WAY = ("queued", "running")
#: Where a transfer was started: a departed user's offboarding, or a record list's action.
ORIGINS = ("offboarding", "list")
#: What undo did with a moved item (restored, or why it was kept).
OUTCOMES = UNDO_OUTCOMES


class Transfer(db.Model):
    """One transfer of a user's items: what to move to whom (its steps), how far it is,
    and whether it was undone."""

    __tablename__ = "offboarding_transfers"
    __table_args__ = (
        enum_check("status", STATUSES),
        enum_check("origin", ORIGINS),
        # one transfer under way per user, in the database itself (a race gets an error too)
        Index(
            "ux_offboarding_transfers_under_way",
            "from_user_id",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_offboarding_transfers_from_user", "from_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    origin: Mapped[str] = mapped_column(String(20), default="offboarding")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    object_types: Mapped[list] = mapped_column(JSON, default=list)
    include_closed: Mapped[bool] = mapped_column(Boolean, default=True)
    #: ``promote_deputies``, ``allow_active``…, passed to every plugin's transfer hook.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    job_id: Mapped[str | None] = mapped_column(String(36))
    #: Items the preview counted when the transfer was planned (the progress bar's 100 %).
    total: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Written with every finished step: a run whose heartbeat stopped may be resumed.
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    restored: Mapped[int | None] = mapped_column(Integer)
    kept: Mapped[int | None] = mapped_column(Integer)

    from_user: Mapped[User] = relationship(User, foreign_keys=[from_user_id])
    requested_by: Mapped[User | None] = relationship(User, foreign_keys=[requested_by_id])
    steps: Mapped[list[TransferStep]] = relationship(
        back_populates="transfer", order_by="TransferStep.position", cascade="all, delete-orphan"
    )

    @property
    def under_way(self) -> bool:
        return self.status in UNDER_WAY


class TransferStep(db.Model):
    """One record type to one recipient (all of the type, or a share of it), moved and
    committed as one unit: a resumed transfer runs the steps not yet done."""

    __tablename__ = "offboarding_transfer_steps"
    __table_args__ = (UniqueConstraint("transfer_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("offboarding_transfers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    object_type: Mapped[str] = mapped_column(String(50))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: ``take`` of every ``of`` items left, in id order (see ``opiekun.user_items.in_share``);
    #: both empty: everything left of the type.
    share_take: Mapped[int | None] = mapped_column(Integer)
    share_of: Mapped[int | None] = mapped_column(Integer)
    #: Only the records whose company the recipient owns ("records follow their company").
    follow_company: Mapped[bool] = mapped_column(Boolean, default=False)
    moved: Mapped[int | None] = mapped_column(Integer)
    #: ``{kind: count}`` as the plugins reported them (``owner``, ``responsible``, ``deputy``…)
    counts: Mapped[dict | None] = mapped_column(JSON)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    transfer: Mapped[Transfer] = relationship(back_populates="steps")
    to_user: Mapped[User] = relationship(User)

    @property
    def share(self) -> tuple[int, int] | None:
        return None if self.share_of is None else (self.share_take, self.share_of)


class MovedItem(db.Model):
    """One field of one record a transfer changed (``owner_id`` of a company…), copied from
    the change stream: what undo puts back, and what it must not overwrite."""

    __tablename__ = "offboarding_moved_items"
    __table_args__ = (enum_check("outcome", OUTCOMES),)

    transfer_id: Mapped[int] = mapped_column(
        ForeignKey("offboarding_transfers.id", ondelete="CASCADE"), primary_key=True
    )
    object_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    object_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(63), primary_key=True)
    object_name: Mapped[str | None] = mapped_column(String(500))
    old_value: Mapped[int | None] = mapped_column(Integer)
    new_value: Mapped[int | None] = mapped_column(Integer)
    moved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(10))
