"""A webhook receiver for the tests: a real HTTP server on a free local port, in a thread,
that checks each delivery's signature as the docs tell integrators to (its own HMAC code,
not the plugin's) and answers what the test scripts (``200`` unless told otherwise)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    raw: bytes
    answered: int

    @cached_property
    def body(self) -> dict:
        return json.loads(self.raw)

    @property
    def events(self) -> list[dict]:
        return self.body["events"]


def signature_is_valid(secret: str, header: str, raw: bytes, window: int = 300) -> bool:
    """The check of docs/webhooks.md: ``t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= window and hmac.compare_digest(expected, parts["v1"])


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    #: statuses to answer, in turn, before answering 200
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_next(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else 200

    @property
    def accepted(self) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if 200 <= delivery.answered < 300]

    def events(self) -> list[dict]:
        """Every event of the accepted deliveries, in the order they arrived."""
        return [event for delivery in self.accepted for event in delivery.events]

    def accepted_events(self) -> int:
        """How many events the accepted deliveries carried (their ``Opiekun-Event-Count``)."""
        return sum(int(delivery.headers["Opiekun-Event-Count"]) for delivery in self.accepted)

    def wait_for_events(self, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while self.accepted_events() < count:
            assert time.monotonic() < deadline, f"{self.accepted_events()} of {count} events arrived"
            time.sleep(0.02)
        return self.events()

    def wait_for_requests(self, count: int, timeout: float = 30) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, f"{len(self.deliveries)} of {count} requests arrived"
            time.sleep(0.02)
        return self.deliveries


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening until the block ends."""
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver.answer_next()
            with receiver.lock:
                receiver.deliveries.append(Delivery(dict(self.headers), raw, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def log_message(self, *arguments) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_port}/opiekun-events")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
