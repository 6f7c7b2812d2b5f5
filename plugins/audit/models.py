"""The audit plugin's tables: the history entries, the head of their hash chain, and the
per-record-type configuration.

Imported only by the plugin's hooks, so a deployment with audit switched off has none of
these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from opiekun.plugin import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    """One event about one record: who (a user, a job, or both), when, what.

    Names and labels are copies taken when the event was recorded (``user_name``,
    ``object_name``, ``field_label``, ``old_label``/``new_label`` inside ``changes``), so the
    history still reads right after the user departed, the record was deleted or the plugin
    that defined a field was removed. ``hash`` chains the entry to the one before it (see
    :mod:`opiekun.plugins.audit.chain`).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id", "id"),
        Index("ix_audit_entries_user", "user_id", "id"),
        # ids are never reused (SQLite would reuse the highest after a purge): "entry #12"
        # always means the same entry
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_name: Mapped[str | None] = mapped_column(String(200))
    job: Mapped[str | None] = mapped_column(String(200))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(Integer)
    object_name: Mapped[str | None] = mapped_column(String(500))
    object_url: Mapped[str | None] = mapped_column(String(500))
    operation: Mapped[str] = mapped_column(String(50), index=True)
    #: ``[{"field", "field_label", "old", "new", "old_label", "new_label"}, ...]``
    changes: Mapped[list] = mapped_column(JSON, default=list)
    context: Mapped[dict | None] = mapped_column(JSON)
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(db.Model):
    """The head of the hash chain: one row (``id = 1``), locked by every transaction that
    appends entries, so entries are chained in one order even when requests run side by
    side. ``settings_version`` changes whenever the configuration does, so every process
    knows when to re-read it."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    settings_version: Mapped[int] = mapped_column(Integer, default=0)


class AuditTypeSetting(db.Model):
    """What is recorded for one record type: which operations (``None``: all) and which
    fields are left out of the history."""

    __tablename__ = "audit_type_settings"

    object_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    operations: Mapped[list | None] = mapped_column(JSON)
    excluded_fields: Mapped[list] = mapped_column(JSON, default=list)
