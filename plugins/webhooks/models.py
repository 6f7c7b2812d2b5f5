"""The webhooks plugin's tables: the endpoints, the outbox of events waiting for them, and
the log of deliveries.

The outbox is shared: an event is written once, whatever the number of endpoints that
want it, and each endpoint keeps a cursor (``delivered_up_to``: the last event id it
acknowledged). Events are written under a lock on :class:`WebhookOutboxHead`, held until
the transaction commits, so ids grow in commit order and a cursor never skips an event
that commits late.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opiekun.plugin import UTCDateTime, db, enum_check, utcnow

#: what an endpoint is doing: delivering, paused by an administrator, or switched off
#: after failing too long (it keeps collecting events until it is switched on again)
STATUSES = ("active", "paused", "failing")
#: a delivery: waiting for its next attempt, delivered, or given up with its endpoint
DELIVERY_STATUSES = ("retrying", "delivered", "failed")
#: the ids of the outbox grow past 2**31 on a busy deployment
EventId = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEndpoint(db.Model):
    """A receiver of events: its URL, the secret deliveries are signed with, the record
    types and operations it wants (empty: all), and its delivery state."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (enum_check("status", STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    record_types: Mapped[list] = mapped_column(JSON, default=list)
    operations: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    #: the last event the endpoint acknowledged (a 2xx answer)
    delivered_up_to: Mapped[int] = mapped_column(EventId, default=0)
    #: failed attempts since the last success
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: who delivers now: one job per endpoint at a time, so events arrive in order
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebhookEvent(db.Model):
    """One change of one record, as it will be delivered (the outbox)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_at", "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(EventId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int] = mapped_column(Integer)
    object_name: Mapped[str | None] = mapped_column(String(500))
    operation: Mapped[str] = mapped_column(String(50))
    #: ``[{"field", "old", "new"}, ...]``
    changes: Mapped[list] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_name: Mapped[str | None] = mapped_column(String(200))
    job: Mapped[str | None] = mapped_column(String(200))
    #: SQL NULL when empty (not JSON ``null``), so a delivery reads it as ``{}``
    context: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))


class WebhookOutboxHead(db.Model):
    """One row (``id = 1``), locked by every transaction that writes events."""

    __tablename__ = "webhook_outbox_head"

    id: Mapped[int] = mapped_column(primary_key=True)


class WebhookDelivery(db.Model):
    """One HTTP delivery of a run of events (``first_event_id``…``last_event_id``) to one
    endpoint, with its attempts. ``key`` is its idempotency key: every attempt, and a
    redelivery, carries the same."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        enum_check("status", DELIVERY_STATUSES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    first_event_id: Mapped[int] = mapped_column(EventId)
    last_event_id: Mapped[int] = mapped_column(EventId)
    event_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship()
