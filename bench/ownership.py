#!/usr/bin/env python
"""Benchmark of the ownership plugin (a script, not a test; local database only; bounded).

1. Bulk owner change of ``--records`` companies (default 100,000) chosen by filter
   (``{"owner_id": A}``), through ``assignments.assign_owners`` — the same service as
   ``POST /api/v1/ownership/assignments`` with ``filter`` and ``on_overlap=replace``: the
   earlier periods end, new periods start, ``owner_id`` changes through the core's
   ``update_records`` (change events with old/new owner) and ``owner_assigned`` events are
   dispatched — against
   * the raw-SQL floor: one ``UPDATE companies`` + one ``INSERT … SELECT`` of the periods, on
     another ``--records`` companies;
   * a naive per-record ORM loop (set ``owner_id``, flush; the plugin's change hook keeps
     the history per record) on ``--loop-sample`` companies, extrapolated linearly to
     ``--records`` (said so in the output).
2. "Owner on date" and "portfolio of a user in a period" over ``--periods`` assignment
   periods (default 1,000,000: 200,000 persons × 5 consecutive yearly periods, 500 users),
   ``--queries`` calls each; p50/p99 in ms. Owner on date: ``reports.owners_on``, the
   service the API calls. Portfolio: ``api.portfolio_page``, the whole answer of
   ``GET /api/v1/ownership/portfolio`` (user check, count, first page of 50, record names,
   the answer model) without only the HTTP layer. On PostgreSQL the table is vacuumed
   before the reads, as autovacuum leaves it (index-only scans then need no heap visits).

Usage::

    python bench/ownership.py --database postgresql --url postgresql://postgres@127.0.0.1:55501/postgres
    python bench/ownership.py --database sqlite

PostgreSQL: the URL names a maintenance database; a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event, text  # noqa: E402

USERS = 500


def psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def create_database(kind: str, url: str | None, folder: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    name = f"opiekun_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(psycopg_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + f"/{name}", drop


def series(dialect: str, count: int) -> str:
    """A SELECT of ``n`` = 1..count, set-based on both databases."""
    if dialect == "postgresql":
        return f"SELECT generate_series(1, {count}) AS n"
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s"


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def explain(db, work) -> None:
    """Print EXPLAIN ANALYZE of every statement ``work()`` sends, with its own parameters."""
    sent = []

    def record(connection, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    for statement, parameters in sent:
        plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        print("\n".join(row[0] for row in plan))
    db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--loop-sample", type=int, default=2_000)
    parser.add_argument("--periods", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--explain", action="store_true", help="print the query plans of the two reads (PostgreSQL)")
    args = parser.parse_args()
    if args.database == "postgresql" and not args.url:
        parser.error("give --url (a PostgreSQL maintenance database on this machine)")
    for name in ("records", "loop_sample", "periods", "queries"):
        if not 1 <= getattr(args, name) <= 5_000_000:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and 5,000,000")

    from opiekun.app import create_app
    from opiekun.changes import Actor, acting_as
    from opiekun.config import Settings
    from opiekun.extensions import db
    from opiekun.migration_runner import upgrade_schema
    from opiekun.models import Company, User

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    url, drop = create_database(args.database, args.url, folder)
    if url.startswith("postgresql://"):
        url = psycopg_url(url)
    settings = Settings(
        instance_path=folder,
        database_url=url,
        redis_url=None,
        plugins=("ownership",),
        secret_key="bench-secret-key-of-at-least-32-bytes",
    )
    app = create_app(settings)
    try:
        with app.app_context():
            upgrade_schema()
            dialect = db.engine.dialect.name
            from opiekun.plugins.ownership import api, assignments, lookups, reports, schemas
            from opiekun.plugins.ownership.periods import today

            # --- data: users, 2 × records + sample companies, each with its primary period ---
            users = [
                User(email=f"u{n}@bench.example", name=f"User {n}", role="admin" if n == 1 else "user", status="active")
                for n in range(1, USERS + 1)
            ]
            db.session.add_all(users)
            db.session.commit()
            ours_from, ours_to, floor_from, floor_to, loop_from, loop_to = 2, 3, 4, 5, 6, 7
            total = 2 * args.records + args.loop_sample
            owner_expr = (
                f"CASE WHEN n <= {args.records} THEN {ours_from} WHEN n <= {2 * args.records} THEN {floor_from} "
                f"ELSE {loop_from} END"
            )
            now = "CURRENT_TIMESTAMP"
            loading = time.perf_counter()
            db.session.execute(
                text(
                    f"INSERT INTO companies (name, city, owner_id, created_by_id, created_at, updated_at) "
                    f"SELECT 'Firma ' || n, 'Kraków', {owner_expr}, 1, {now}, {now} FROM ({series(dialect, total)}) AS s"
                )
            )
            start = "CURRENT_DATE" if dialect == "postgresql" else "date('now')"
            db.session.execute(
                text(
                    "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, created_at) "
                    f"SELECT 'company', id, owner_id, 'primary', 'sales', {start}, NULL, 'write', {now} FROM companies "
                    f"WHERE owner_id <> {floor_from}"
                )
            )  # the floor's records get their only period from the floor itself
            # 1M periods for the read benchmark: persons × 5 consecutive yearly periods
            persons = max(1, args.periods // 5)
            db.session.execute(
                text(
                    f"INSERT INTO persons (first_name, last_name, owner_id, created_at, updated_at) "
                    f"SELECT 'Jan', 'Kowalski ' || n, (n % {USERS}) + 1, {now}, {now} FROM ({series(dialect, persons)}) AS s"
                )
            )
            day_plus = (
                (lambda days: f"CAST('2020-01-01' AS DATE) + ({days})")
                if dialect == "postgresql"
                else (lambda days: f"date('2020-01-01', '+' || ({days}) || ' days')")
            )
            db.session.execute(
                text(
                    "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, created_at) "
                    f"SELECT 'person', p.id, ((p.id * 7 + k.n) % {USERS}) + 1, 'primary', 'sales', {day_plus('(k.n - 1) * 365')}, "
                    f"CASE WHEN k.n = 5 THEN NULL ELSE {day_plus('k.n * 365 - 1')} END, 'write', {now} "
                    f"FROM persons p CROSS JOIN ({series(dialect, 5)}) AS k"
                )
            )
            db.session.commit()
            if dialect == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            periods = db.session.scalar(text("SELECT count(*) FROM ownership_assignments"))
            print(
                f"database: {dialect}; loaded {total:,} companies and {periods:,} assignment periods "
                f"in {time.perf_counter() - loading:.1f} s"
            )

            admin_user = db.session.get(User, 1)
            actor = Actor(user_id=1, user_name=admin_user.name)

            # --- (1a) ours: by filter, with history and change events ---
            def ours():
                with acting_as(actor):
                    request = assignments.AssignmentRequest(
                        object_type="company",
                        user_id=ours_to,
                        filter={"owner_id": str(ours_from)},
                        on_overlap="replace",
                        valid_from=today(),
                    )
                    counts = assignments.assign_owners(request, admin_user)
                    db.session.commit()
                    assert counts.created == args.records, counts

            ours_seconds = timed(ours)
            moved = db.session.scalar(text(f"SELECT count(*) FROM companies WHERE owner_id = {ours_to}"))
            history = db.session.scalar(
                text(f"SELECT count(*) FROM ownership_assignments WHERE object_type='company' AND user_id = {ours_to}")
            )
            assert moved == args.records and history == args.records, (moved, history)

            # --- (1b) the raw-SQL floor: one UPDATE + one INSERT … SELECT ---
            def floor():
                db.session.execute(
                    text(
                        f"UPDATE companies SET owner_id = {floor_to}, updated_at = {now} WHERE owner_id = {floor_from}"
                    )
                )
                db.session.execute(
                    text(
                        "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, created_at) "
                        f"SELECT 'company', id, owner_id, 'primary', 'sales', {start}, NULL, 'write', {now} FROM companies WHERE owner_id = {floor_to}"
                        if dialect == "postgresql"
                        else "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, created_at) "
                        f"SELECT 'company', id, owner_id, 'primary', 'sales', date('now'), NULL, 'write', {now} FROM companies WHERE owner_id = {floor_to}"
                    )
                )
                db.session.commit()

            floor_seconds = timed(floor)

            # --- (1c) naive per-record ORM loop, on a sample ---
            def loop():
                with acting_as(actor):
                    for company in db.session.query(Company).filter(Company.owner_id == loop_from).all():
                        company.owner_id = loop_to
                        db.session.flush()
                    db.session.commit()

            loop_seconds = timed(loop)
            loop_extrapolated = loop_seconds * args.records / args.loop_sample
            assert (
                db.session.scalar(text(f"SELECT count(*) FROM companies WHERE owner_id = {loop_to}"))
                == args.loop_sample
            )

            print(f"\n(1) bulk owner change of {args.records:,} companies by filter, with history and change events")
            print(f"    ownership service (assign_owners, on_overlap=replace): {ours_seconds * 1000:9.0f} ms")
            print(f"    raw-SQL floor (1 UPDATE + 1 INSERT … SELECT):          {floor_seconds * 1000:9.0f} ms")
            print(
                f"    naive ORM loop: {args.loop_sample:,} records took {loop_seconds * 1000:.0f} ms, extrapolated linearly to "
                f"{args.records:,}: {loop_extrapolated * 1000:9.0f} ms"
            )
            print(f"    ratio ours / floor: {ours_seconds / floor_seconds:5.2f}x   (goal <= 2x)")
            print(f"    ratio loop / ours:  {loop_extrapolated / ours_seconds:5.1f}x   (goal >= 20x)")

            # --- (2) reads over the periods ---
            if dialect == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE ownership_assignments"))

            def portfolio_answer(user_id: int, period_start: dt.date):
                query = schemas.PortfolioQuery.model_validate(
                    {"user_id": user_id, "from": period_start, "to": period_start + dt.timedelta(days=30)}
                )
                return api.portfolio_page(query)

            record_type = lookups.record_type_named("person")
            rng = random.Random(7)
            owner_times, portfolio_times = [], []
            first, last = dt.date(2020, 1, 1), dt.date(2025, 6, 30)
            for _ in range(args.queries):
                object_id = rng.randint(1, persons)
                day = first + dt.timedelta(days=rng.randint(0, (last - first).days))
                started = time.perf_counter()
                reports.owners_on(record_type, object_id, day)
                owner_times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            for _ in range(args.queries):
                user_id = rng.randint(1, USERS)
                period_start = first + dt.timedelta(days=rng.randint(0, (last - first).days))
                started = time.perf_counter()
                answer = portfolio_answer(user_id, period_start)
                portfolio_times.append((time.perf_counter() - started) * 1000)
                assert len(answer.items) == min(50, answer.total), (answer.total, len(answer.items))
                db.session.rollback()
            if args.explain and dialect == "postgresql":
                explain(db, lambda: reports.owners_on(record_type, 123, dt.date(2022, 5, 1)))
                explain(db, lambda: portfolio_answer(7, dt.date(2022, 5, 1)))
            print(f"\n(2) reads over {periods:,} assignment periods ({args.queries:,} calls each, in process)")
            print(
                f"    owner on date (owners_on):                 p50 {statistics.median(owner_times):6.2f} ms   "
                f"p99 {percentile(owner_times, 0.99):6.2f} ms   (goal p50 <= 5 ms)"
            )
            print(
                f"    portfolio of a user in a 31-day period (api.portfolio_page: user check, count, first page of 50 "
                f"with record names, answer model):\n"
                f"                                               p50 {statistics.median(portfolio_times):6.2f} ms   "
                f"p99 {percentile(portfolio_times, 0.99):6.2f} ms   (goal p50 <= 5 ms)"
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
