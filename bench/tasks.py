#!/usr/bin/env python
"""Benchmark: a user's task list with the sharing rules applied, versus the same list
without them.

What it does, bounded in size and time, on loopback only:

1. creates a fresh database (PostgreSQL: ``CREATE DATABASE`` on the server given; SQLite:
   a file in a temporary folder) and builds the app with only the ``tasks`` plugin, its
   schema through the migrations;
2. loads ``--users`` users (default 200) and ``--tasks`` tasks (default 200,000) spread
   over them, with set-based SQL (``INSERT … SELECT`` over ``generate_series`` / a
   recursive CTE); 5 % private, a third done, due days over a year;
3. gives one grantee ``--grants`` sharing grants (default 50): grants for all types at
   free/busy, read and full access from 40 owners, and 10 per-type grants (some ``none``
   overriding an all-types grant, some the only grant of their owner); the grantee takes
   part in 100 tasks of other users;
4. times, ``--iterations`` rounds at most (at most ``--seconds`` per view), the scenarios
   of a view in turn within each round, the same
   call the API makes for ``GET /api/v1/tasks`` (``task_lists.list_tasks``: grants lookup,
   count, first page of 50 sorted by due date, each row's level):
   * *with sharing rules*: as the grantee;
   * *without sharing rules*: as an admin (every task visible, no rule evaluated);
   * *owner filter only*: the plain ``owner_id IN (…)`` list over the same owners, no
     per-type grants, private tasks, participation or per-row levels;
   and the same three for one week of the calendar (``due_from``/``due_to``);
5. prints p50 / p99 in ms and the ratios (goal: with / without ≤ 1.5), then drops the
   database.

Usage::

    python bench/tasks.py --database postgresql --url postgresql://postgres@127.0.0.1:55502/postgres
    python bench/tasks.py --database sqlite

The PostgreSQL URL may also come from ``OPIEKUN_BENCH_DATABASE_URL`` (or
``OPIEKUN_TEST_DATABASE_URL``): a maintenance database the benchmark may create and drop
databases from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


class Database:
    """A database of its own for the run, dropped at the end."""

    def __init__(self, kind: str, url: str | None):
        self.kind = kind
        self.folder = tempfile.mkdtemp(prefix="opiekun-bench-tasks-")
        self.name = f"opiekun_bench_tasks_{uuid.uuid4().hex[:8]}"
        self.server_url = url
        if kind == "sqlite":
            self.url = f"sqlite:///{Path(self.folder) / 'bench.db'}"
        else:
            if not url or not url.split("://", 1)[1].split("@")[-1].startswith(("127.0.0.1", "localhost", "[::1]")):
                raise SystemExit("give a PostgreSQL URL on 127.0.0.1 (loopback only) with --url")
            engine = create_engine(psycopg_url(url), isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
            engine.dispose()
            self.url = psycopg_url(url.rsplit("/", 1)[0] + f"/{self.name}")

    def drop(self) -> None:
        if self.kind == "postgresql":
            engine = create_engine(psycopg_url(self.server_url), isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            engine.dispose()


def build_app(database: Database):
    from opiekun.app import create_app
    from opiekun.config import Settings
    from opiekun.migration_runner import upgrade_schema

    settings = Settings(
        instance_path=Path(database.folder),
        database_url=database.url,
        redis_url=None,
        plugins=("tasks",),
        secret_key="bench-secret-key-of-at-least-32-bytes",
    )
    app = create_app(settings)
    with app.app_context():
        upgrade_schema()
    return app


def load(app, users: int, tasks: int, grants: int) -> dict:
    """Users, tasks and grants, set-based. Returns the ids the scenarios need."""
    from opiekun.extensions import db
    from opiekun.models import User
    from opiekun.plugins.tasks.models import (
        Task,
        TaskShare,
        TaskType,
        task_participants,
    )

    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"user{number}@bench.example",
                    "name": f"Użytkownik {number}",
                    "password_hash": "",
                    "role": "user",
                    "status": "active",
                    "token_generation": 0,
                    "created_at": now,
                }
                for number in range(users)
            ],
        )
        db.session.execute(
            insert(User),
            [
                {
                    "email": "admin@bench.example",
                    "name": "Admin",
                    "password_hash": "",
                    "role": "admin",
                    "status": "active",
                    "token_generation": 0,
                    "created_at": now,
                }
            ],
        )
        db.session.commit()
        user_ids = db.session.scalars(select(User.id).where(User.role == "user").order_by(User.id)).all()
        admin_id = db.session.scalar(select(User.id).where(User.role == "admin"))
        type_ids = db.session.scalars(select(TaskType.id).order_by(TaskType.id)).all()
        first_user, first_type, type_count = user_ids[0], type_ids[0], len(type_ids)
        started = time.perf_counter()
        if db.engine.dialect.name == "postgresql":
            series = "FROM generate_series(1, :n) AS s(g)"
            due = "DATE '2030-01-01' + (g % 365)"
            boolean = "({})"
        else:
            series = (
                "FROM (WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) SELECT g FROM s)"
            )
            due = "date('2030-01-01', '+' || (g % 365) || ' days')"
            boolean = "CASE WHEN {} THEN 1 ELSE 0 END"
        db.session.execute(
            text(
                "INSERT INTO tasks (title, type_id, responsible_id, created_by_id, due_date, priority, private, reminders, done, "
                "created_at, updated_at) "
                f"SELECT 'Zadanie ' || g, :first_type + (g % :types), :first_user + (g % :users), :first_user + (g % :users), {due}, "
                f"'normal', {boolean.format('g % 20 = 0')}, '[]', {boolean.format('g % 3 = 0')}, :now, :now {series}"
            ),
            {
                "n": tasks,
                "first_type": first_type,
                "types": type_count,
                "first_user": first_user,
                "users": users,
                "now": now,
            },
        )
        db.session.commit()
        log(f"loaded {tasks:,} tasks in {time.perf_counter() - started:.1f}s")
        grantee = user_ids[0]
        owners = user_ids[1 : 1 + 45]
        levels = ("free_busy", "read", "full")
        rows = [
            {
                "owner_id": owner,
                "grantee_id": grantee,
                "task_type_id": None,
                "level": levels[index % 3],
                "created_at": now,
            }
            for index, owner in enumerate(owners[:40])
        ]
        for index, owner in enumerate(owners[:5]):  # per-type "none" over an all-types grant
            rows.append(
                {
                    "owner_id": owner,
                    "grantee_id": grantee,
                    "task_type_id": type_ids[index % type_count],
                    "level": "none",
                    "created_at": now,
                }
            )
        for index, owner in enumerate(owners[40:45]):  # the only grant of that owner: one type
            rows.append(
                {
                    "owner_id": owner,
                    "grantee_id": grantee,
                    "task_type_id": type_ids[index % type_count],
                    "level": "read",
                    "created_at": now,
                }
            )
        rows = rows[:grants]
        db.session.execute(insert(TaskShare), rows)
        foreign = db.session.scalars(select(Task.id).where(Task.owner_id == user_ids[-1]).limit(100)).all()
        db.session.execute(insert(task_participants), [{"task_id": task_id, "user_id": grantee} for task_id in foreign])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        shared_owners = sorted({row["owner_id"] for row in rows if row["level"] != "none"})
        total = db.session.scalar(select(func.count()).select_from(Task))
        return {"grantee": grantee, "admin": admin_id, "owners": shared_owners, "grants": len(rows), "tasks": total}


def timed(calls: list[Callable[[], object]], iterations: int, seconds: float) -> list[list[float]]:
    """The time of each of ``calls``, in ms, run in turn (``iterations`` rounds at most, and
    at most ``seconds``): a slower moment of the machine slows every scenario alike, so the
    ratios hold."""
    for call in calls:
        call()  # warm up (plans, caches)
    samples: list[list[float]] = [[] for _ in calls]
    deadline = time.perf_counter() + seconds
    for _ in range(iterations):
        for call, taken in zip(calls, samples, strict=True):
            started = time.perf_counter()
            call()
            taken.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return samples


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(app, ids: dict, iterations: int, seconds: float) -> list[tuple[str, list[float]]]:
    from opiekun.extensions import db
    from opiekun.models import User
    from opiekun.plugins.tasks.models import Task
    from opiekun.plugins.tasks.services import task_lists
    from opiekun.plugins.tasks.services.visibility import Visibility

    results = []
    with app.app_context():
        grantee = db.session.get(User, ids["grantee"])
        admin = db.session.get(User, ids["admin"])
        week = task_lists.TaskFilters(due_from=dt.date(2030, 3, 4), due_to=dt.date(2030, 3, 10))
        everything = Visibility.of(admin)

        def plain_list(filters: task_lists.TaskFilters):
            statement = select(Task).where(
                Task.owner_id.in_([ids["grantee"], *ids["owners"]]), *task_lists.filter_conditions(filters)
            )
            db.session.scalar(select(func.count()).select_from(statement.subquery()))
            db.session.scalars(task_lists.sorted_tasks(statement, None, everything).limit(50)).unique().all()

        for label, filters in (("list", task_lists.TaskFilters()), ("week", week)):
            scenarios = (
                (f"{label}: with sharing rules (grantee)", lambda f=filters: task_lists.list_tasks(grantee, f, 1, 50)),
                (f"{label}: without sharing rules (admin)", lambda f=filters: task_lists.list_tasks(admin, f, 1, 50)),
                (f"{label}: owner filter only", lambda f=filters: plain_list(f)),
            )
            calls = [lambda c=call: (c(), db.session.rollback()) for _, call in scenarios]
            for (name, _), samples in zip(scenarios, timed(calls, iterations, seconds), strict=True):
                results.append((name, samples))
                log(f"{name}: {len(samples)} runs")
        rows, total = task_lists.list_tasks(grantee, task_lists.TaskFilters(), 1, 50)
        levels = sorted({row.level for row in rows})
        log(f"grantee sees {total:,} of {ids['tasks']:,} tasks; first page levels: {', '.join(levels)}")
    return results


def explain(app, ids: dict) -> None:
    from opiekun.extensions import db
    from opiekun.models import User
    from opiekun.plugins.tasks.services import task_lists
    from opiekun.plugins.tasks.services.visibility import Visibility

    with app.app_context():
        for user_id in (ids["grantee"], ids["admin"]):
            user = db.session.get(User, user_id)
            statement = task_lists.sorted_tasks(task_lists.visible_tasks(user), None, Visibility.of(user)).limit(50)
            for query in (select(func.count()).select_from(task_lists.visible_tasks(user).subquery()), statement):
                compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
                prefix = (
                    "EXPLAIN (ANALYZE, BUFFERS) " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
                )
                plan = db.session.execute(text(prefix + str(compiled))).all()
                log("\n".join(" | ".join(str(part) for part in row) for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--grants", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--explain", action="store_true", help="print the query plans (PostgreSQL) of the two lists")
    arguments = parser.parse_args()
    if not 50 <= arguments.users <= 10_000 or not 1 <= arguments.tasks <= 5_000_000 or not 1 <= arguments.grants <= 50:
        raise SystemExit("--users 50..10000, --tasks up to 5,000,000, --grants 1..50")
    database = Database(arguments.database, arguments.url)
    try:
        app = build_app(database)
        ids = load(app, arguments.users, arguments.tasks, arguments.grants)
        if arguments.explain:
            explain(app, ids)
        results = run(app, ids, arguments.iterations, arguments.seconds)
        with app.app_context():
            from opiekun.extensions import db

            db.engine.dispose()
    finally:
        database.drop()
    print(
        f"tasks benchmark on {arguments.database}: {ids['tasks']:,} tasks, {arguments.users} users, "
        f"grantee with {ids['grants']} sharing grants"
    )
    print(f"{'scenario':48} {'runs':>5} {'p50 ms':>9} {'p99 ms':>9}")
    table = {}
    for name, samples in results:
        table[name] = (percentile(samples, 0.5), percentile(samples, 0.99))
        print(f"{name:48} {len(samples):5d} {table[name][0]:9.2f} {table[name][1]:9.2f}")
    for label in ("list", "week"):
        with_rules = table[f"{label}: with sharing rules (grantee)"]
        without = table[f"{label}: without sharing rules (admin)"]
        plain = table[f"{label}: owner filter only"]
        print(
            f"{label}: with / without sharing rules: p50 {with_rules[0] / without[0]:.2f}x, p99 {with_rules[1] / without[1]:.2f}x "
            f"(goal <= 1.5x); with rules / owner filter only: p50 {with_rules[0] / plain[0]:.2f}x, p99 {with_rules[1] / plain[1]:.2f}x"
        )


if __name__ == "__main__":
    main()
