"""The deployment's webhook settings: read from the environment when the app starts
(``opiekun_app_ready``) into the app's config, where a test may set them too.

============================================  ==========================================
``OPIEKUN_WEBHOOKS_RETRY_DELAYS``             seconds before each retry of a failed
                                              delivery, comma separated (default
                                              ``30,120,600,1800,3600,10800,21600,43200``:
                                              about 22 hours); after the last one fails the
                                              endpoint is switched off and the
                                              administrators are told
``OPIEKUN_WEBHOOKS_BATCH_SIZE``               events per delivery at most (default 1000)
``OPIEKUN_WEBHOOKS_TIMEOUT``                  seconds to wait for a receiver (default 10)
``OPIEKUN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES``  ``1``: endpoints may be in private networks
                                              and on this machine (default: refused, so an
                                              endpoint cannot reach internal services)
``OPIEKUN_WEBHOOKS_RETENTION_DAYS``           days events and deliveries are kept for
                                              redelivery (default 7)
============================================  ==========================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask, current_app

from opiekun.plugin import ConfigurationError

DEFAULT_RETRY_DELAYS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)


@dataclass(frozen=True)
class WebhookSettings:
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    batch_size: int = 1000
    timeout: float = 10.0
    allow_private_addresses: bool = False
    retention_days: int = 7
    #: how long one delivery job runs before it queues its continuation
    run_seconds: float = 50.0


_CONFIG_KEY = "WEBHOOKS"


def load_settings(app: Flask, environment: Mapping[str, str] = os.environ) -> None:
    """Put the environment's settings into ``app.config["WEBHOOKS"]`` (unless set)."""
    if _CONFIG_KEY in app.config:
        return
    values: dict = {}
    try:
        if delays := environment.get("OPIEKUN_WEBHOOKS_RETRY_DELAYS", "").strip():
            values["retry_delays"] = tuple(float(delay) for delay in delays.split(","))
        if size := environment.get("OPIEKUN_WEBHOOKS_BATCH_SIZE", "").strip():
            values["batch_size"] = int(size)
        if timeout := environment.get("OPIEKUN_WEBHOOKS_TIMEOUT", "").strip():
            values["timeout"] = float(timeout)
        if days := environment.get("OPIEKUN_WEBHOOKS_RETENTION_DAYS", "").strip():
            values["retention_days"] = int(days)
    except ValueError as error:
        raise ConfigurationError(f"a webhook setting (OPIEKUN_WEBHOOKS_…) is not a number: {error}") from None
    allow = environment.get("OPIEKUN_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "").strip().lower()
    values["allow_private_addresses"] = allow not in ("", "0", "false", "no", "off")
    settings = WebhookSettings(**values)
    if settings.batch_size < 1 or settings.timeout <= 0 or settings.retention_days < 1:
        raise ConfigurationError("OPIEKUN_WEBHOOKS_BATCH_SIZE, _TIMEOUT and _RETENTION_DAYS must be positive")
    if any(delay < 0 for delay in settings.retry_delays):
        raise ConfigurationError("OPIEKUN_WEBHOOKS_RETRY_DELAYS must be seconds, none negative")
    app.config[_CONFIG_KEY] = settings


def webhook_settings() -> WebhookSettings:
    """The current app's settings."""
    return current_app.config.get(_CONFIG_KEY) or WebhookSettings()
