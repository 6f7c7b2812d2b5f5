"""How deliveries are signed: HMAC-SHA256 of ``"<timestamp>.<body>"`` with the endpoint's
secret, sent as ``Opiekun-Signature: t=<timestamp>,v1=<hex digest>``.

A receiver recomputes the digest over the raw body, compares in constant time, and
refuses a timestamp older than its replay window (five minutes is usual): a captured
delivery cannot be replayed later, nor its body changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Opiekun-Signature"
#: how old a signature a receiver should accept, in seconds (what the docs advise)
REPLAY_WINDOW = 300


def new_secret() -> str:
    """A fresh signing secret (``whsec_`` and 43 URL-safe characters: 256 random bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Opiekun-Signature`` header of ``body``, signed at ``timestamp`` (now)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, window: int = REPLAY_WINDOW, now: float | None = None) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``window`` seconds of now
    (what a receiver does; the suite's receiver has its own copy, written from the docs)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > window:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
