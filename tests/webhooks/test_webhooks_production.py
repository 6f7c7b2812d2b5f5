"""Production mode: a real Redis and a real ``opiekun worker`` process deliver, and a
failed delivery comes back through rq's scheduled jobs (the worker runs rq's scheduler)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from opiekun.plugins.webhooks.settings import WebhookSettings
from opiekun.testing.apps import TEST_REDIS_URL, build_app, close_app
from opiekun.testing.clients import ApiClient
from tests.core.test_plugin_lifecycle import operator_environment
from tests.support.redis_databases import WEBHOOKS, redis_database_url
from tests.support.webhook_receiver import receiving
from tests.webhooks.conftest import register

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not TEST_REDIS_URL, reason="set OPIEKUN_TEST_REDIS_URL to run against a real Redis"),
]


def webhooks_redis_url() -> str:
    """A Redis database of this module's own (one per xdist worker), apart from the others'."""
    return redis_database_url(WEBHOOKS)


def test_a_real_worker_delivers_and_retries_a_failed_delivery_through_rq(tmp_path, fresh_database):
    redis_url = webhooks_redis_url()
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    database_url = fresh_database.url()
    app = build_app(tmp_path, database_url, redis_url=redis_url)
    app.config["WEBHOOKS"] = WebhookSettings(allow_private_addresses=True)
    api = ApiClient(app)
    environment = operator_environment(
        database_url,
        tmp_path,
        OPIEKUN_REDIS_URL=redis_url,
        OPIEKUN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES="1",
        OPIEKUN_WEBHOOKS_RETRY_DELAYS="1",
    )
    log = tmp_path / "worker.log"
    with receiving() as receiver, log.open("w") as output:
        receiver.answers = [502]
        admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
        endpoint = register(api, admin, receiver)
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "opiekun"), "worker"],
            env=environment,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            api.post("/companies", admin, json={"name": "Z kolejki"})

            (event,) = receiver.wait_for_events(1, timeout=60)
        finally:
            worker.terminate()
            worker.wait(20)
    assert event["record_name"] == "Z kolejki", log.read_text()
    first, second = receiver.deliveries
    assert (first.answered, second.answered) == (502, 200)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    (delivery,) = api.get(f"/webhooks/{endpoint['id']}/deliveries", admin).get_json()["items"]
    assert (delivery["attempts"], delivery["status"]) == (2, "delivered")
    redis.flushdb()
    redis.close()
    close_app(app)
