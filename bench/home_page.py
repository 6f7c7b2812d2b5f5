#!/usr/bin/env python
"""Benchmark: the panel's start page at scale — a salesperson's and an admin's (team
panels: records without an owner, the load per owner, overdue tasks, departed owners).

What it does, bounded in count and time and on loopback only:

1. creates a fresh database (as ``bench/api_list.py`` does: PostgreSQL ``CREATE DATABASE``
   on the server given, or a SQLite file), runs ``opiekun init`` and ``opiekun create-admin``;
2. loads ``--companies`` companies (default 1,000,000) for ``--users`` owners with
   set-based SQL, one owner in ten departed, one company in a hundred without an owner;
3. builds the app in-process, logs in through the login form (the admin, then one
   salesperson) and renders ``/admin/`` ``--requests`` times each (after a warm-up);
4. prints p50 and p95 of each and the number of SQL statements one page runs.

Usage::

    python bench/home_page.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/home_page.py --database sqlite --companies 200000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_list import (  # noqa: E402 - the sibling benchmark's database set-up
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    fresh_database,
    log,
    run_opiekun,
)

SELLER_PASSWORD = "bench-seller-password-1"


def prepare_users(database, owners: list[int]) -> int:
    """One owner in ten departed, one company in a hundred without an owner; the first
    owner gets a password to log in with. Returns that salesperson's id."""
    from werkzeug.security import generate_password_hash

    p = database.placeholder
    connection = database.connect()
    try:
        cursor = connection.cursor()
        departed = owners[::10]
        cursor.execute(
            f"UPDATE users SET status = 'departed' WHERE id IN ({', '.join(str(int(user)) for user in departed)})"
        )
        cursor.execute("UPDATE companies SET owner_id = NULL WHERE id % 100 = 0")
        seller = owners[1]
        cursor.execute(
            f"UPDATE users SET password_hash = {p} WHERE id = {p}", (generate_password_hash(SELLER_PASSWORD), seller)
        )
        connection.commit()
    finally:
        connection.close()
    database.vacuum()
    return seller


def log_in(client, email: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    field = re.search(r"<input[^>]*csrf_token[^>]*>", page).group(0)
    csrf = re.search(r'value="([^"]+)"', field).group(1)
    answer = client.post("/login", data={"csrf_token": csrf, "email": email, "password": password})
    if answer.status_code != 302:
        raise RuntimeError(f"could not log in as {email}: {answer.status_code}")


def measure(client, requests: int, warmup: int) -> tuple[list[float], list[tuple[float, str]]]:
    """Milliseconds per start page, and the SQL statements of the last page with their
    milliseconds."""
    from sqlalchemy import event

    from opiekun.extensions import db

    for _ in range(warmup):
        client.get("/admin/")
    statements: list[tuple[float, str]] = []
    started: list[float] = []

    def before(_connection, _cursor, statement, *_args) -> None:
        started.append(time.perf_counter())

    def after(_connection, _cursor, statement, *_args) -> None:
        statements.append(((time.perf_counter() - started.pop()) * 1000, " ".join(statement.split())))

    timings = []
    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(requests):
            statements.clear()
            began = time.perf_counter()
            answer = client.get("/admin/")
            timings.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise RuntimeError(f"/admin/ answered {answer.status_code}")
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return timings, statements


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="PostgreSQL server URL (default: $OPIEKUN_BENCH_DATABASE_URL)")
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--slowest", type=int, default=3, help="show this many slowest statements of a page")
    args = parser.parse_args()
    if not (0 < args.companies <= 5_000_000 and 10 <= args.users <= 10_000 and 0 < args.requests <= 1000):
        parser.error("keep it bounded: companies ≤ 5M, 10 ≤ users ≤ 10k, requests ≤ 1000")

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    database = fresh_database(args, parser, folder)
    try:
        env = {
            "OPIEKUN_DATABASE_URL": database.url(),
            "OPIEKUN_INSTANCE_PATH": str(folder),
            "OPIEKUN_SECRET_KEY": "bench-secret-key-" + uuid.uuid4().hex,
        }
        run_opiekun({**os.environ, **env}, folder, "init")
        run_opiekun({**os.environ, **env}, folder, "create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
        began = time.perf_counter()
        owners, _ = database.load(args.companies, args.users)
        seller_id = prepare_users(database, owners)
        log(
            f"{database.name}: {args.companies:,} companies for {len(owners)} owners in {time.perf_counter() - began:.1f} s"
        )

        os.environ.update(env)
        from opiekun.app import create_app
        from opiekun.config import Settings

        app = create_app(Settings.from_environment(folder))
        print(f"start page on {database.name}, {args.companies:,} companies, {len(owners)} owners")
        for who, email, password in (
            ("admin (team panels)", ADMIN_EMAIL, ADMIN_PASSWORD),
            ("salesperson", f"user{owners.index(seller_id) + 1}@bench.example", SELLER_PASSWORD),
        ):
            client = app.test_client()
            log_in(client, email, password)
            timings, statements = measure(client, args.requests, args.warmup)
            p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) >= 20 else max(timings)
            print(
                f"    {who}: p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms "
                f"over {len(timings)} pages; {len(statements)} SQL statements per page, "
                f"{sum(ms for ms, _ in statements):.0f} ms in the database"
            )
            for ms, statement in sorted(statements, reverse=True)[: args.slowest]:
                print(f"        {ms:6.1f} ms  {statement[:160]}")
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
