"""Redis databases of their own for the tests that start real rq workers: each module
takes an offset from the database ``OPIEKUN_TEST_REDIS_URL`` names, and each xdist worker
one more, so no two modules (or workers) flush each other's queue."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from opiekun.testing.apps import TEST_REDIS_URL

#: the offsets in use, one per module (with up to 3 xdist workers, none overlap)
JOBS, WEBHOOKS, OFFBOARDING_WORKER_CRASH, PARTNER_PLUGIN_LIFECYCLE = 1, 4, 8, 12


def redis_database_url(offset: int) -> str:
    """The URL of database ``offset`` (plus the xdist worker's number) beside the given one."""
    parts = urlsplit(TEST_REDIS_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    number = (int(parts.path.strip("/") or 0) + offset + (int(worker) if worker.isdigit() else 0)) % 16
    return urlunsplit(parts._replace(path=f"/{number}"))
