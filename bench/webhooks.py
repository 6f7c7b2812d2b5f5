#!/usr/bin/env python
"""Benchmark of webhooks (a script, not a test; local database only; bounded).

``--records`` companies (default 100,000) change owner in one set-based change
(``opiekun.changes.update_records``: what bulk owner changes and offboarding transfers use,
each event through the change stream to every plugin), measured ``--repeat`` times each
(default 3, interleaved):

* **bulk change alone**: no webhook endpoint registered (the outbox writes nothing);
* **bulk change with one endpoint** subscribed to company updates: the same change, plus
  the outbox's ``INSERT … SELECT`` of one event per record (goal: ≤ 1.2× the change alone);
* **delivery**: from the commit of the change until the endpoint acknowledged its last
  event. The job ``webhooks.deliver`` that the commit queues runs in the embedded worker
  (one rq worker, a thread of this process, as ``opiekun serve`` runs it without Redis);
  the receiver is another process answering 200 to each POST after reading its body.
  Events/s of one worker (goal ≥ 20,000), and the time from the start of the change until
  the last event is delivered.

A first round warms up and is not counted; then PostgreSQL's statistics are brought up
to date (``ANALYZE``), as autovacuum keeps them for an outbox in use.

Plugins on: ``--plugins`` (default every built-in: ownership, tasks, audit, offboarding,
webhooks); ``--plugins webhooks`` shows the outbox against the bare change.

Usage::

    python bench/webhooks.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/webhooks.py --database sqlite
    python bench/webhooks.py --database sqlite --plugins webhooks
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ownership import create_database, psycopg_url, series  # noqa: E402 - the sibling benchmark's helpers
from sqlalchemy import text  # noqa: E402

BUILT_INS = ("ownership", "tasks", "audit", "offboarding", "webhooks")
FIRST_OWNER, SECOND_OWNER = 2, 3


def receive(port_queue) -> None:
    """A receiver in a process of its own: reads each delivery and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *arguments) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_port)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--plugins", default=",".join(BUILT_INS))
    args = parser.parse_args()
    if args.database == "postgresql" and not args.url:
        parser.error("give --url (a PostgreSQL maintenance database on this machine)")
    if not 1 <= args.records <= 2_000_000 or not 1 <= args.repeat <= 20:
        parser.error("--records must be 1..2,000,000 and --repeat 1..20")
    plugins = tuple(name.strip() for name in args.plugins.split(",") if name.strip())
    if "webhooks" not in plugins:
        parser.error("--plugins must include webhooks")

    from opiekun.app import create_app
    from opiekun.changes import Actor, acting_as, update_records
    from opiekun.config import Settings
    from opiekun.extensions import db
    from opiekun.migration_runner import upgrade_schema
    from opiekun.models import Company, User
    from opiekun.plugins.webhooks import endpoints
    from opiekun.plugins.webhooks.settings import WebhookSettings

    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receive, args=(ports,), daemon=True)
    receiver.start()
    receiver_url = f"http://127.0.0.1:{ports.get(timeout=10)}/events"

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    url, drop = create_database(args.database, args.url, folder)
    if url.startswith("postgresql://"):
        url = psycopg_url(url)
    settings = Settings(
        instance_path=folder, database_url=url, redis_url=None, plugins=plugins, secret_key="bench-" + "k" * 40
    )
    app = create_app(settings)
    app.config["WEBHOOKS"] = WebhookSettings(allow_private_addresses=True, batch_size=args.batch_size)
    try:
        with app.app_context():
            upgrade_schema()
            dialect = db.engine.dialect.name
            db.session.add_all(
                User(email=f"u{n}@bench.example", name=f"User {n}", role="admin" if n == 1 else "user", status="active")
                for n in (1, FIRST_OWNER, SECOND_OWNER)
            )
            db.session.commit()
            db.session.execute(
                text(
                    "INSERT INTO companies (name, city, owner_id, created_by_id, created_at, updated_at) "
                    f"SELECT 'Firma ' || n, 'Kraków', {FIRST_OWNER}, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                    f"FROM ({series(dialect, args.records)}) AS s"
                )
            )
            db.session.commit()
            if dialect == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            owner = [FIRST_OWNER]

            def bulk_change() -> float:
                """Every company to the other owner, committed; returns seconds."""
                new_owner = SECOND_OWNER if owner[0] == FIRST_OWNER else FIRST_OWNER
                started = time.perf_counter()
                with acting_as(Actor(user_id=1, user_name="User 1")):
                    changed = update_records(db.session, Company, Company.owner_id == owner[0], {"owner_id": new_owner})
                    db.session.commit()
                elapsed = time.perf_counter() - started
                assert changed == args.records, changed
                owner[0] = new_owner
                return elapsed

            def delivery_cursor(endpoint_id: int) -> int:
                cursor = db.session.scalar(
                    text("SELECT delivered_up_to FROM webhook_endpoints WHERE id = :id"), {"id": endpoint_id}
                )
                db.session.commit()
                return cursor

            def forget_events() -> None:
                db.session.execute(text("DELETE FROM webhook_deliveries"))
                db.session.execute(text("DELETE FROM webhook_events"))
                db.session.execute(text("DELETE FROM webhook_endpoints"))
                db.session.commit()

            alone, with_endpoint, delivering, until_last = [], [], [], []
            for round_number in range(args.repeat + 1):
                forget_events()
                alone.append(bulk_change())
                endpoint = endpoints.create_endpoint(
                    SimpleNamespace(id=1),  # the administrator, by id (the only field it reads)
                    {"name": "bench", "url": receiver_url, "record_types": ["company"], "operations": ["update"]},
                )
                db.session.commit()
                endpoint_id = endpoint.id
                with_endpoint.append(bulk_change())
                started = time.perf_counter()
                last_event = db.session.scalar(text("SELECT max(id) FROM webhook_events"))
                db.session.commit()
                while delivery_cursor(endpoint_id) < last_event:
                    time.sleep(0.05)
                delivering.append(time.perf_counter() - started)
                until_last.append(with_endpoint[-1] + delivering[-1])
                assert db.session.scalar(text("SELECT sum(event_count) FROM webhook_deliveries")) == args.records
                if round_number == 0:  # a warm-up: the tables hold data and (PostgreSQL) statistics, as in use
                    for measured in (alone, with_endpoint, delivering, until_last):
                        measured.pop()
                    if dialect == "postgresql":
                        db.session.execute(text("ANALYZE"))
                        db.session.commit()
                db.session.remove()
    finally:
        receiver.terminate()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()

    def line(name: str, seconds: list[float]) -> str:
        return (
            f"{name:<34} best {min(seconds):7.2f} s  median {statistics.median(seconds):7.2f} s  "
            f"worst {max(seconds):7.2f} s"
        )

    print(f"{args.database}, {args.records:,} companies, plugins: {', '.join(plugins)}, batch {args.batch_size}")
    print(line("bulk change alone", alone))
    print(line("bulk change, one endpoint", with_endpoint))
    print(line("delivery (one worker)", delivering))
    print(line("change start → last event delivered", until_last))
    ratio = statistics.median(with_endpoint) / statistics.median(alone)
    rate = args.records / statistics.median(delivering)
    print(f"slowdown of the bulk change: {ratio:.2f}× (goal ≤ 1.2×)")
    print(f"delivery: {rate:,.0f} events/s per worker (goal ≥ 20,000)")


if __name__ == "__main__":
    main()
