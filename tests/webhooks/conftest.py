"""Fixtures of the webhook tests: a receiver, and the shared app with quick retries and
local addresses allowed (the receiver listens on 127.0.0.1)."""

from __future__ import annotations

import time

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from opiekun.extensions import db
from opiekun.jobs import queue
from opiekun.plugins.webhooks.models import WebhookEndpoint
from opiekun.plugins.webhooks.settings import WebhookSettings
from tests.support.webhook_receiver import receiving

#: retries after 50 ms and 100 ms: a test sees the whole back-off in a fraction of a second
QUICK = WebhookSettings(allow_private_addresses=True, retry_delays=(0.05, 0.1))


@pytest.fixture
def webhook_settings(app):
    """The shared app with :data:`QUICK` settings (a test may replace them); put back after."""
    before = app.config.get("WEBHOOKS")
    app.config["WEBHOOKS"] = QUICK
    yield app.config
    wait_until_quiet(app)
    app.config["WEBHOOKS"] = before


@pytest.fixture
def receiver(webhook_settings):
    with receiving() as listening:
        yield listening


def wait_until_quiet(app, timeout: float = 30) -> None:
    """Until no delivery job is queued, running or holding an endpoint (so emptying the
    tables does not race one)."""
    deadline = time.monotonic() + timeout
    with app.app_context():
        while _jobs_at_work() or db.session.scalar(
            select(func.count()).where(WebhookEndpoint.lease_until.is_not(None))
        ):
            assert time.monotonic() < deadline, "a delivery job is still at work"
            db.session.rollback()
            time.sleep(0.02)
        db.session.remove()


def _jobs_at_work() -> int:
    """Jobs queued or running in the app's queue."""
    waiting = queue()
    return waiting.count + StartedJobRegistry(queue=waiting).count


def register(api, user, receiver, **values) -> dict:
    """Register the receiver as an endpoint over the API; returns the answer (with secret)."""
    response = api.post("/webhooks", user, json={"name": "ERP", "url": receiver.url, **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
