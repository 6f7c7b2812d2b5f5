"""A plugin that holds an offboarding transfer half-way, for the crash test.

Loaded by the test app and by the real ``opiekun worker`` processes
(``OPIEKUN_PLUGIN_MODULES=tests.offboarding.gate_plugin``). When a transfer step reaches
deals, its transfer hook says so in Redis and waits until the test opens the gate — so the
test can kill the worker while the step's transaction is open, after earlier steps were
committed.
"""

from __future__ import annotations

import time

from opiekun import PluginManifest, hookimpl

NAME = "offboardinggate"
MANIFEST = PluginManifest(name=NAME, version="1.0.0", summary="holds transfers at the deal step (tests)")
REACHED_KEY = f"{NAME}:reached"
GATE_KEY = f"{NAME}:open"
GATE_TIMEOUT = 120


@hookimpl
def opiekun_transfer_user_items(session, request):
    """At a step moving deals: announce it, then wait for the gate."""
    from opiekun.jobs import connection

    if "deal" not in request.object_types:
        return []
    redis = connection()
    redis.set(REACHED_KEY, 1, ex=600)
    deadline = time.monotonic() + GATE_TIMEOUT
    while not redis.exists(GATE_KEY):
        if time.monotonic() > deadline:
            raise TimeoutError("the gate was never opened")
        time.sleep(0.05)
    return []
