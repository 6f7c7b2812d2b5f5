"""Delivering the outbox to one endpoint: in order, in batches, signed, at least once.

One job per endpoint at a time (a lease on the endpoint row, taken with a conditional
``UPDATE``): it reads the events after the endpoint's cursor (``delivered_up_to``) that the
endpoint wants, at most ``batch_size`` of them, records the delivery, posts it, and on a
2xx answer moves the cursor past it and goes on. A failed delivery is retried as it was
(same events, same idempotency key) after the next back-off delay, before anything newer,
so a receiver sees the events of a record in the order they were committed. When the last
retry fails, the endpoint is switched off (``failing``) and the administrators are told;
it keeps collecting events until it is switched on again.

No database transaction stays open while a receiver answers: SQLite's writers never wait
for the network.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask_babel import gettext
from sqlalchemy import Row, Select, Text, and_, cast, delete, exists, func, or_, select, update

from opiekun.plugin import (
    VERSION,
    active_administrators,
    db,
    enqueue,
    enqueue_in,
    error_summary,
    notify_users,
    translated,
    utcnow,
)
from opiekun.plugins.webhooks.endpoints import address_problem
from opiekun.plugins.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from opiekun.plugins.webhooks.settings import WebhookSettings, webhook_settings
from opiekun.plugins.webhooks.signing import SIGNATURE_HEADER, signature
from opiekun.plugins.webhooks.sql_json import json_object, json_value, text_constant, utc_text

EVENTS = WebhookEvent.__table__
ENDPOINTS = WebhookEndpoint.__table__
#: what a receiver's answer keeps in the log at most
KEPT_ANSWER = 500
#: seconds a retry that starts early waits for its time in the job (longer: queued again)
EARLY_RETRY_WAIT = 10


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: ``status`` (the HTTP status, ``None`` when none came back)."""

    delivered: bool
    status: int | None
    error: str | None
    duration_ms: int


# --- the jobs ------------------------------------------------------------------------------


def deliver(endpoint_id: int, retry: bool = False) -> dict[str, Any]:
    """Job ``webhooks.deliver``: send the endpoint what it has not acknowledged yet.
    ``retry``: this run is the retry queued after a failure (see :func:`_retry_is_due`)."""
    settings = webhook_settings()
    if retry and not _retry_is_due(endpoint_id):
        return {"events": 0, "waiting": True}
    deadline = time.monotonic() + settings.run_seconds
    sent = 0
    with _client(settings) as client:
        while True:
            token = _take_lease(endpoint_id, settings)
            if token is None:
                return {"events": sent, "busy": True}
            try:
                sent += _deliver_batches(client, endpoint_id, settings, deadline)
            finally:
                _release_lease(endpoint_id, token)
            if time.monotonic() >= deadline:
                enqueue("webhooks.deliver", endpoint_id=endpoint_id)
                break
            # asked after the lease is gone: events committed while it was held, whose
            # own job found the endpoint busy, are not left behind
            if not has_due_events(endpoint_id):
                break
    return {"events": sent}


def _retry_is_due(endpoint_id: int) -> bool:
    """A retry may start up to a second early (rq schedules by whole seconds): it waits for
    its time when that is near, and is queued again for it otherwise (the endpoint's retry
    time moved later meanwhile), so it is never lost."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    waiting = endpoint.next_attempt_at if endpoint is not None and endpoint.status == "active" else None
    db.session.commit()
    if waiting is None:
        return True
    remaining = (waiting - utcnow()).total_seconds()
    if remaining <= 0:
        return True
    if remaining <= EARLY_RETRY_WAIT:
        time.sleep(remaining)
        return True
    enqueue_in(remaining, "webhooks.deliver", endpoint_id=endpoint_id, retry=True)
    return False


def redeliver(delivery_id: int) -> dict[str, Any]:
    """Job ``webhooks.redeliver``: send an acknowledged delivery once more (same events,
    same idempotency key); the endpoint's cursor and failures stay as they are."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return {"events": 0}
    endpoint = delivery.endpoint
    events = _events_between(endpoint, delivery.first_event_id, delivery.last_event_id)
    db.session.commit()
    with _client(webhook_settings()) as client:
        outcome = _post(client, endpoint, delivery, events)
    _note_attempt(delivery, outcome)
    if not outcome.delivered:
        delivery.status = "failed"
    db.session.commit()
    return {"events": len(events), "delivered": outcome.delivered}


def deliver_due() -> dict[str, int]:
    """Job ``webhooks.deliver_due`` (every minute): start delivering to every endpoint that
    has events due (:func:`has_due_events`) and no job at work — a retry whose timer was
    lost with a restart, or events whose job was lost with a queue."""
    now = utcnow()
    free = select(ENDPOINTS.c.id).where(or_(ENDPOINTS.c.lease_until.is_(None), ENDPOINTS.c.lease_until < now))
    started = 0
    for endpoint_id in db.session.scalars(free).all():
        if has_due_events(endpoint_id):
            enqueue("webhooks.deliver", endpoint_id=endpoint_id)
            started += 1
    return {"endpoints": started}


def purge() -> dict[str, int]:
    """Job ``webhooks.purge`` (nightly): events and deliveries older than the retention."""
    cutoff = utcnow() - dt.timedelta(days=webhook_settings().retention_days)
    events = db.session.execute(delete(EVENTS).where(EVENTS.c.at < cutoff)).rowcount  # type: ignore[attr-defined]
    deliveries = db.session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.created_at < cutoff, WebhookDelivery.status != "retrying")
    ).rowcount  # type: ignore[attr-defined]
    return {"events": events, "deliveries": deliveries}


# --- one endpoint's run ----------------------------------------------------------------------


def _deliver_batches(client: httpx.Client, endpoint_id: int, settings: WebhookSettings, deadline: float) -> int:
    sent = 0
    while time.monotonic() < deadline:
        endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
        if endpoint is None or not _is_due(endpoint):
            break
        delivery, events = _next_delivery(endpoint, settings.batch_size)
        if delivery is None:
            break
        db.session.commit()  # the delivery is on record before it goes out; no transaction waits on the network
        outcome = _post(client, endpoint, delivery, events)
        _record(endpoint, delivery, outcome, settings)
        db.session.commit()
        if not outcome.delivered:
            break
        sent += len(events)
    db.session.commit()
    return sent


def _is_due(endpoint: WebhookEndpoint) -> bool:
    return endpoint.status == "active" and (endpoint.next_attempt_at is None or endpoint.next_attempt_at <= utcnow())


def has_due_events(endpoint_id: int) -> bool:
    """The endpoint is active, not waiting for a retry, and has events it has not acknowledged."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    found = (
        endpoint is not None
        and _is_due(endpoint)
        and bool(db.session.scalar(select(exists().where(EVENTS.c.id > endpoint.delivered_up_to, *_wanted(endpoint)))))
    )
    db.session.commit()
    return found


def _next_delivery(endpoint: WebhookEndpoint, batch_size: int) -> tuple[WebhookDelivery | None, list[str]]:
    """The delivery to send now: the one that failed (same events), or a new one of the
    next ``batch_size`` events the endpoint wants."""
    waiting = db.session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status != "delivered",
            WebhookDelivery.first_event_id > endpoint.delivered_up_to,
        )
        .order_by(WebhookDelivery.first_event_id)
        .limit(1)
    )
    if waiting is not None:
        events = _events_between(endpoint, waiting.first_event_id, waiting.last_event_id)
        if events:
            return waiting, events
        waiting.status = "delivered"  # its events were purged or no longer wanted: nothing to send
        endpoint.delivered_up_to = waiting.last_event_id
    rows = _event_bodies(
        select(EVENTS.c.id)
        .where(EVENTS.c.id > endpoint.delivered_up_to, *_wanted(endpoint))
        .order_by(EVENTS.c.id)
        .limit(batch_size)
    )
    if not rows:
        return None, []
    delivery = WebhookDelivery(
        key=str(uuid.uuid4()),
        endpoint_id=endpoint.id,
        first_event_id=rows[0].id,
        last_event_id=rows[-1].id,
        event_count=len(rows),
        status="retrying",
        attempts=0,
    )
    db.session.add(delivery)
    db.session.flush()
    return delivery, [row.body for row in rows]


def _wanted(endpoint: WebhookEndpoint) -> list:
    conditions = []
    if endpoint.record_types:
        conditions.append(EVENTS.c.object_type.in_(list(endpoint.record_types)))
    if endpoint.operations:
        conditions.append(EVENTS.c.operation.in_(list(endpoint.operations)))
    return conditions


def _event_bodies(chosen: Select) -> list[Row]:
    """``(id, body)`` of the events whose ids ``chosen`` selects, in id order: each event's
    JSON as a receiver gets it (see docs/webhooks.md), built by the database, so Python
    only joins the texts of a delivery. The ids are chosen first, in a subquery, so the
    JSON is built for those rows only (not for every row a sort looks at)."""
    ids = chosen.subquery()
    body = json_object(
        text_constant("id"),
        EVENTS.c.id,
        text_constant("type"),
        EVENTS.c.object_type + text_constant(".") + EVENTS.c.operation,
        text_constant("record_type"),
        EVENTS.c.object_type,
        text_constant("operation"),
        EVENTS.c.operation,
        text_constant("record_id"),
        EVENTS.c.object_id,
        text_constant("record_name"),
        EVENTS.c.object_name,
        text_constant("changes"),
        json_value(EVENTS.c.changes),
        text_constant("actor"),
        json_object(
            text_constant("user_id"),
            EVENTS.c.user_id,
            text_constant("user_name"),
            EVENTS.c.user_name,
            text_constant("job"),
            EVENTS.c.job,
        ),
        text_constant("at"),
        utc_text(EVENTS.c.at),
        text_constant("context"),
        func.coalesce(json_value(EVENTS.c.context), json_object()),
    )
    statement = select(EVENTS.c.id, cast(body, Text).label("body")).join(ids, ids.c.id == EVENTS.c.id)
    return list(db.session.execute(statement.order_by(EVENTS.c.id)))


def _events_between(endpoint: WebhookEndpoint, first: int, last: int) -> list[str]:
    rows = _event_bodies(select(EVENTS.c.id).where(and_(EVENTS.c.id >= first, EVENTS.c.id <= last), *_wanted(endpoint)))
    return [row.body for row in rows]


# --- sending ---------------------------------------------------------------------------------


def _client(settings: WebhookSettings) -> httpx.Client:
    """One connection kept open for a job's deliveries. ``TCP_NODELAY``: the body leaves at
    once after the headers, instead of waiting for the receiver's (delayed) ACK of them."""
    return httpx.Client(
        timeout=settings.timeout,
        follow_redirects=False,
        headers={"User-Agent": f"Opiekun-Webhooks/{VERSION}", "Content-Type": "application/json"},
        transport=httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]),
    )


def delivery_body(endpoint: WebhookEndpoint, delivery: WebhookDelivery, events: Sequence[str]) -> bytes:
    """The JSON a receiver gets: the delivery's key, the endpoint and the events in order."""
    return f'{{"delivery_id":"{delivery.key}","endpoint_id":{endpoint.id},"events":[{",".join(events)}]}}'.encode()


def _post(client: httpx.Client, endpoint: WebhookEndpoint, delivery: WebhookDelivery, events: Sequence[str]) -> Outcome:
    started = time.monotonic()
    refused = address_problem(urlsplit(endpoint.url))
    if refused:
        return Outcome(False, None, translated(refused), 0)
    body = delivery_body(endpoint, delivery, events)
    headers = {
        SIGNATURE_HEADER: signature(endpoint.secret, body),
        "Opiekun-Delivery": delivery.key,
        "Idempotency-Key": delivery.key,
        "Opiekun-Event-Count": str(len(events)),
    }
    try:
        response = client.post(endpoint.url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(False, None, error_summary(error), _elapsed(started))
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None, _elapsed(started))
    answer = " ".join(response.text[:KEPT_ANSWER].split())
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {answer}".strip(), _elapsed(started))


def _elapsed(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# --- recording what happened -------------------------------------------------------------------


def _note_attempt(delivery: WebhookDelivery, outcome: Outcome) -> None:
    now = utcnow()
    delivery.attempts += 1
    delivery.attempted_at = now
    delivery.response_status = outcome.status
    delivery.duration_ms = outcome.duration_ms
    delivery.last_error = outcome.error
    if outcome.delivered:
        delivery.status = "delivered"
        delivery.delivered_at = now


def _record(endpoint: WebhookEndpoint, delivery: WebhookDelivery, outcome: Outcome, settings: WebhookSettings) -> None:
    _note_attempt(delivery, outcome)
    if outcome.delivered:
        endpoint.delivered_up_to = max(endpoint.delivered_up_to, delivery.last_event_id)
        endpoint.failures = 0
        endpoint.next_attempt_at = None
        endpoint.last_error = None
        return
    endpoint.failures += 1
    endpoint.last_error = outcome.error
    if endpoint.failures > len(settings.retry_delays):
        _switch_off(endpoint, delivery)
        return
    delay = settings.retry_delays[endpoint.failures - 1]
    endpoint.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    enqueue_in(delay, "webhooks.deliver", endpoint_id=endpoint.id, retry=True)


def _switch_off(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    """The last retry failed: the endpoint stops delivering (it keeps collecting events)
    and the administrators, and whoever registered it, are told in the app."""
    endpoint.status = "failing"
    endpoint.disabled_at = utcnow()
    endpoint.next_attempt_at = None
    delivery.status = "failed"
    notify_users(
        db.session,
        active_administrators(db.session, endpoint.created_by_id),
        "webhooks.endpoint_failing",
        lambda: gettext(
            "The webhook endpoint %(name)s was switched off after %(count)s failed deliveries: %(error)s",
            name=endpoint.name,
            count=endpoint.failures,
            error=endpoint.last_error or "",
        ),
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        data={"endpoint_id": endpoint.id, "delivery_id": delivery.id},
    )


# --- the lease -------------------------------------------------------------------------------


def _take_lease(endpoint_id: int, settings: WebhookSettings) -> str | None:
    """Become the endpoint's only delivering job until the lease ends (or is released)."""
    token = str(uuid.uuid4())
    now = utcnow()
    until = now + dt.timedelta(seconds=settings.run_seconds + 2 * settings.timeout + 30)
    taken = db.session.execute(
        update(ENDPOINTS)
        .where(ENDPOINTS.c.id == endpoint_id, or_(ENDPOINTS.c.lease_until.is_(None), ENDPOINTS.c.lease_until < now))
        .values(lease_token=token, lease_until=until)
    ).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return token if taken == 1 else None


def _release_lease(endpoint_id: int, token: str) -> None:
    db.session.rollback()
    db.session.execute(
        update(ENDPOINTS)
        .where(ENDPOINTS.c.id == endpoint_id, ENDPOINTS.c.lease_token == token)
        .values(lease_token=None, lease_until=None)
    )
    db.session.commit()
