#!/usr/bin/env python
"""Benchmark: a record list through the JSON API versus the raw SQL behind it.

What it does, bounded in count and time and on loopback only:

1. creates a fresh database (PostgreSQL: ``CREATE DATABASE`` on the server given; SQLite:
   a file in a temporary folder), runs ``opiekun init`` (the migrations) and
   ``opiekun create-admin``;
2. loads ``--companies`` companies (default 100,000) owned by ``--users`` users (default
   50) with set-based SQL (``INSERT … SELECT`` over ``generate_series`` / a recursive CTE);
3. serves the app with gunicorn on 127.0.0.1 (a free port; ``--workers`` processes of 2
   threads, like ``opiekun serve`` in production) and, with ``--concurrency`` keep-alive
   clients, sends at most ``--requests`` requests (and at most ``--seconds`` seconds) per
   scenario: ``GET /api/v1/companies?owner_id=<id>&per_page=50`` and the ``q=`` search;
4. runs the same page SELECT and total straight on the database, same concurrency: what
   ``opiekun.pagination.page_of`` does (PostgreSQL: the planner's estimate, then, unless it
   is over ten times the limit, a count capped at 10,001 rows; SQLite: the capped count,
   then the whole count beyond it);
5. prints p50, p99 and requests/s of both, and the API/raw ratios;
6. stops gunicorn and drops the database.

Usage::

    python bench/api_list.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/api_list.py --database sqlite

The PostgreSQL URL may also come from ``OPIEKUN_BENCH_DATABASE_URL`` (or
``OPIEKUN_TEST_DATABASE_URL``); it names a maintenance database the benchmark may create
and drop databases from. Run it on both databases.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opiekun.pagination import UNCOUNTED_ESTIMATE_FACTOR  # noqa: E402 - the package, from this checkout
from opiekun.search import register_sqlite_function  # noqa: E402

ADMIN_EMAIL = "admin@bench.example"
ADMIN_PASSWORD = "bench-admin-password-1"
#: the app's default OPIEKUN_EXACT_COUNT_LIMIT
EXACT_COUNT_LIMIT = 10_000
SEARCH_TERM = "kowal"  # one company in ten: "Kowalski" and "Kowalczyk" hold it
SURNAMES = (
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Wojciechowski",
    "Kwiatkowski",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Nowakowski",
)
CITIES = ("Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Szczecin", "Bydgoszcz", "Lublin", "Białystok")
PAGE_COLUMNS = (
    "id",
    "name",
    "tax_id",
    "email",
    "phone",
    "website",
    "city",
    "address",
    "owner_id",
    "created_by_id",
    "created_at",
    "updated_at",
)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def opiekun_command() -> list[str]:
    script = Path(sys.executable).with_name("opiekun")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from opiekun.cli import main; main()"]


def run_opiekun(env: dict[str, str], folder: Path, *arguments: str) -> None:
    done = subprocess.run(
        [*opiekun_command(), *arguments], env=env, cwd=folder, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"opiekun {arguments[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the databases -------------------------------------------------------------------------------


class Database:
    """One fresh benchmark database: created, loaded, queried raw, dropped."""

    name = ""
    placeholder = "%s"

    def url(self) -> str: ...
    def connect(self): ...
    def drop(self) -> None: ...

    def load(self, companies: int, users: int) -> tuple[list[int], int]:
        """Insert the users and companies; return the owners' ids and the admin's id."""
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT id FROM users WHERE email = " + self.placeholder, (ADMIN_EMAIL,))
            admin_id = cursor.fetchone()[0]
            cursor.execute("CREATE TEMPORARY TABLE bench_names (i integer PRIMARY KEY, surname text, city text)")
            cursor.executemany(
                f"INSERT INTO bench_names VALUES ({self.placeholder}, {self.placeholder}, {self.placeholder})",
                [(i, surname, CITIES[i % len(CITIES)]) for i, surname in enumerate(SURNAMES)],
            )
            cursor.execute(self.users_sql(users))
            cursor.execute("SELECT id FROM users WHERE email LIKE 'user%@bench.example' ORDER BY id")
            owners = [row[0] for row in cursor.fetchall()]
            cursor.execute(self.companies_sql(companies, owners[0], len(owners), admin_id))
            connection.commit()
        finally:
            connection.close()
        self.vacuum()
        return owners, admin_id

    def vacuum(self) -> None:
        """Statistics and visibility map as autovacuum leaves them after a bulk load."""

    # the SQL the API runs for one page (opiekun.pagination.page_of): the page, newest first,
    # then the total (see total())
    def owner_queries(self) -> ListQueries:
        return self.list_queries(f"owner_id = {self.placeholder}")

    def search_queries(self) -> ListQueries:
        # as opiekun.search does: the folded column (the trigram indexes' expression) LIKE the folded word
        return self.list_queries(
            " OR ".join(
                f"opiekun_search_text({column}) LIKE {self.placeholder}" for column in ("name", "tax_id", "city")
            )
        )

    def list_queries(self, where: str) -> ListQueries:
        return ListQueries(
            page=f"SELECT {', '.join(PAGE_COLUMNS)} FROM companies WHERE {where} ORDER BY id DESC LIMIT 50 OFFSET 0",
            capped_count=f"SELECT count(*) FROM (SELECT 1 FROM companies WHERE {where} LIMIT {EXACT_COUNT_LIMIT + 1}) AS c",
            beyond_limit=self.beyond_limit(where),
        )

    def beyond_limit(self, where: str) -> str:
        """What the app runs when more than the limit match: the planner's estimate."""
        return f"EXPLAIN (FORMAT JSON) SELECT * FROM companies WHERE {where}"

    def total(self, cursor, queries: ListQueries, parameters: tuple) -> int:
        """The total as ``opiekun.pagination.total_of`` reaches it: the planner's estimate
        first; counted (up to the limit + 1) unless that is over ten times the limit."""
        cursor.execute(queries.beyond_limit, parameters)
        plan = cursor.fetchone()[0]
        estimate = int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
        if estimate > EXACT_COUNT_LIMIT * UNCOUNTED_ESTIMATE_FACTOR:
            return estimate
        cursor.execute(queries.capped_count, parameters)
        counted = cursor.fetchone()[0]
        return counted if counted <= EXACT_COUNT_LIMIT else max(estimate, EXACT_COUNT_LIMIT + 1)


@dataclass(frozen=True)
class ListQueries:
    page: str
    capped_count: str
    beyond_limit: str


class PostgresDatabase(Database):
    name = "postgresql"

    def __init__(self, server_url: str):
        import psycopg

        self.psycopg = psycopg
        self.server_url = server_url.replace("postgresql+psycopg://", "postgresql://")
        self.database = f"opiekun_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        parts = urllib.parse.urlsplit(self.server_url)
        self._url = urllib.parse.urlunsplit(parts._replace(path=f"/{self.database}"))

    def url(self) -> str:
        return self._url

    def connect(self):
        return self.psycopg.connect(self._url)

    def vacuum(self) -> None:
        # VACUUM sets a page all-visible only when no snapshot older than its rows is left
        # (an autovacuum ANALYZE started by the load may hold one): until it has, index-only
        # scans read the heap, and the counts cost ten times what they do on a live server
        with self.psycopg.connect(self._url, autocommit=True) as connection:
            for _ in range(30):
                connection.execute("VACUUM (ANALYZE) users, companies")
                pages, visible = connection.execute(
                    "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'companies'"
                ).fetchone()
                if visible >= 0.99 * pages:
                    return
                time.sleep(2)
            log(f"postgresql: only {visible} of {pages} pages of companies all-visible after VACUUM")

    def drop(self) -> None:
        with self.psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def users_sql(self, users: int) -> str:
        return f"""
            INSERT INTO users (email, name, password_hash, role, status, token_generation, created_at)
            SELECT 'user' || g || '@bench.example', 'Handlowiec ' || g, '', 'user', 'active', 0, now()
            FROM generate_series(1, {int(users)}) AS g"""

    def companies_sql(self, companies: int, first_owner: int, owners: int, admin_id: int) -> str:
        return f"""
            INSERT INTO companies (name, tax_id, email, phone, website, city, address, owner_id, created_by_id,
                                   created_at, updated_at)
            SELECT 'Firma ' || n.surname || ' ' || g, lpad(((g::bigint * 7919) % 9999999999)::text, 10, '0'),
                   'biuro' || g || '@firma' || (g % 97) || '.example', '+48 600 ' || lpad((g % 1000000)::text, 6, '0'),
                   'https://firma' || g || '.example', n.city, 'ul. Długa ' || (g % 200 + 1),
                   {int(first_owner)} + g % {int(owners)}, {int(admin_id)},
                   now() - make_interval(mins => g), now() - make_interval(mins => g)
            FROM generate_series(1, {int(companies)}) AS g
            JOIN bench_names AS n ON n.i = (g / 7) % {len(SURNAMES)}"""


class SqliteDatabase(Database):
    name = "sqlite"
    placeholder = "?"

    def __init__(self, folder: Path):
        self.path = folder / "bench.db"

    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def connect(self):
        connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        register_sqlite_function(connection)  # opiekun_search_text, as the app registers it
        return connection

    def vacuum(self) -> None:
        connection = self.connect()
        try:
            connection.execute("ANALYZE")
            connection.commit()
        finally:
            connection.close()

    def beyond_limit(self, where: str) -> str:
        return f"SELECT count(*) FROM (SELECT 1 FROM companies WHERE {where}) AS c"

    def total(self, cursor, queries: ListQueries, parameters: tuple) -> int:
        """SQLite has no estimate: counted up to the limit + 1, then to the end."""
        cursor.execute(queries.capped_count, parameters)
        counted = cursor.fetchone()[0]
        if counted <= EXACT_COUNT_LIMIT:
            return counted
        cursor.execute(queries.beyond_limit, parameters)
        return cursor.fetchone()[0]

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def users_sql(self, users: int) -> str:
        return f"""
            INSERT INTO users (email, name, password_hash, role, status, token_generation, created_at)
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {int(users)})
            SELECT 'user' || n || '@bench.example', 'Handlowiec ' || n, '', 'user', 'active', 0,
                   strftime('%Y-%m-%d %H:%M:%S', 'now')
            FROM g"""

    def companies_sql(self, companies: int, first_owner: int, owners: int, admin_id: int) -> str:
        return f"""
            INSERT INTO companies (name, tax_id, email, phone, website, city, address, owner_id, created_by_id,
                                   created_at, updated_at)
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {int(companies)})
            SELECT 'Firma ' || b.surname || ' ' || g.n, substr('0000000000' || ((g.n * 7919) % 9999999999), -10),
                   'biuro' || g.n || '@firma' || (g.n % 97) || '.example',
                   '+48 600 ' || substr('000000' || (g.n % 1000000), -6),
                   'https://firma' || g.n || '.example', b.city, 'ul. Długa ' || (g.n % 200 + 1),
                   {int(first_owner)} + g.n % {int(owners)}, {int(admin_id)},
                   strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || g.n || ' minutes'),
                   strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || g.n || ' minutes')
            FROM g JOIN bench_names AS b ON b.i = (g.n / 7) % {len(SURNAMES)}"""


def fresh_database(args, parser: argparse.ArgumentParser, folder: Path) -> Database:
    """The benchmark's own database: a new one on the loopback PostgreSQL server named by
    ``--url`` (or ``OPIEKUN_BENCH_DATABASE_URL``, ``OPIEKUN_TEST_DATABASE_URL``), or a SQLite
    file in ``folder``."""
    if args.database != "postgresql":
        return SqliteDatabase(folder)
    url = args.url or os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        parser.error("give a PostgreSQL server URL with --url (or OPIEKUN_BENCH_DATABASE_URL)")
    host = urllib.parse.urlsplit(url.replace("postgresql+psycopg://", "postgresql://")).hostname
    if host not in ("127.0.0.1", "localhost", "::1", None, ""):
        parser.error("the benchmark talks to loopback only: use a PostgreSQL on 127.0.0.1")
    return PostgresDatabase(url)


# --- measuring ----------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def count(self) -> int:
        return len(self.latencies)

    def add(self, other: Result) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds

    def percentile(self, fraction: float) -> float:
        """In ms; NaN when no request was measured (the time limit ran out in the warm-up)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def run_load(
    label: str,
    make_worker: Callable[[], Callable[[int], bool]],
    requests: int,
    concurrency: int,
    seconds: float,
    warmup: int,
) -> Result:
    """``concurrency`` threads, each with its own ``make_worker()`` (a connection), share at
    most ``requests`` calls and stop after ``seconds``; ``warmup`` calls are not measured."""
    counter = iter(range(requests + warmup))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    started = [0.0]
    deadline = [float("inf")]
    barrier = threading.Barrier(concurrency + 1)

    def next_number() -> int | None:
        with lock:
            return next(counter, None)

    def work() -> None:
        call = make_worker()
        try:
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                number = next_number()
                if number is None:
                    break
                begin = time.perf_counter()
                ok = call(number)
                took = time.perf_counter() - begin
                if number < warmup:
                    continue
                with lock:
                    if not started[0]:
                        started[0] = begin
                    if ok:
                        latencies.append(took)
                    else:
                        errors[0] += 1
        finally:
            close = getattr(call, "close", None)
            if close:
                close()

    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    begin = time.perf_counter()
    deadline[0] = begin + seconds
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.perf_counter() - (started[0] or begin)
    return Result(label, latencies, errors[0], elapsed)


class ApiWorker:
    """One keep-alive HTTP connection sending GETs of a list of paths in turn."""

    def __init__(self, port: int, token: str, paths: list[str]):
        self.port, self.paths = port, paths
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def __call__(self, number: int) -> bool:
        path = self.paths[number % len(self.paths)]
        for attempt in (1, 2):
            try:
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                body = response.read()
                if response.status != 200:
                    log(f"{path}: HTTP {response.status} {body[:200]!r}")
                    return False
                return len(json.loads(body)["items"]) > 0
            except (http.client.HTTPException, OSError):  # refused, reset, timed out
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    return False
        return False

    def close(self) -> None:
        self.connection.close()


class RawWorker:
    """One database connection running the SQL the API runs for a page (:class:`ListQueries`)."""

    def __init__(self, database: Database, queries: ListQueries, parameters: list[tuple]):
        self.connection = database.connect()
        self.database, self.queries, self.parameters = database, queries, parameters

    def __call__(self, number: int) -> bool:
        parameters = self.parameters[number % len(self.parameters)]
        cursor = self.connection.cursor()
        cursor.execute(self.queries.page, parameters)
        rows = cursor.fetchall()
        total = self.database.total(cursor, self.queries, parameters)
        self.connection.rollback()  # end the read transaction, like the app's session does
        return total > 0 and len(rows) > 0

    def close(self) -> None:
        self.connection.close()


# --- the server ------------------------------------------------------------------------------------


@contextmanager
def gunicorn(env: dict[str, str], folder: Path, workers: int, threads: int) -> Iterator[int]:
    """The app under gunicorn on a free loopback port, stopped on the way out."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        "--timeout",
        "120",
        "opiekun.app:create_app()",
    ]
    server_log = (folder / "gunicorn.log").open("w")
    server = subprocess.Popen(
        command, env=env, cwd=folder, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(folder / 'gunicorn.log').read_text()[-3000:]}")
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                probe.request("GET", "/health")
                if probe.getresponse().status == 200:
                    probe.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /health within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
        server_log.close()


def api_token(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(
        "POST",
        "/api/v1/auth/token",
        body=json.dumps({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        headers={"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"no token: {body}")
    return body["token"]


# --- the run -----------------------------------------------------------------------------------------


def app_environment(database: Database, folder: Path) -> dict[str, str]:
    """The environment of the ``opiekun`` commands and gunicorn: this one without its
    ``OPIEKUN_*`` settings (but the choice of plugins), with the benchmark's database,
    folder and a secret key."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPIEKUN_")}
    env.update(
        OPIEKUN_DATABASE_URL=database.url(),
        OPIEKUN_INSTANCE_PATH=str(folder),
        OPIEKUN_SECRET_KEY="bench-secret-key-" + uuid.uuid4().hex,
    )
    for name in ("OPIEKUN_PLUGINS", "OPIEKUN_PLUGIN_MODULES"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def prepare(database: Database, env: dict[str, str], folder: Path, companies: int, users: int) -> list[int]:
    """The schema (``opiekun init``), the admin, then the users and companies; returns the
    owners' ids."""
    log(f"{database.name}: migrations (opiekun init) and an admin")
    run_opiekun(env, folder, "init")
    run_opiekun(env, folder, "create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
    began = time.perf_counter()
    owners, _ = database.load(companies, users)
    log(
        f"{database.name}: loaded {companies:,} companies for {len(owners)} owners "
        f"in {time.perf_counter() - began:.1f} s (set-based INSERT … SELECT)"
    )
    return owners


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", help="PostgreSQL server URL (default: $OPIEKUN_BENCH_DATABASE_URL or $OPIEKUN_TEST_DATABASE_URL)"
    )
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per scenario and side")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4, help="API and raw SQL run in turn, this many times each")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60, help="time limit per scenario and side")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="afterwards, profile N owner_id list requests in-process (CPU time, cProfile)",
    )
    args = parser.parse_args()
    if not (
        0 < args.requests <= 100_000
        and 0 < args.concurrency <= 64
        and 0 < args.seconds <= 600
        and 0 < args.companies <= 5_000_000
        and 0 < args.users <= 10_000
        and 0 < args.workers <= 32
        and 0 < args.rounds <= args.requests
        and 0 <= args.profile <= 10_000
    ):
        parser.error("keep it bounded: requests ≤ 100k, concurrency ≤ 64, seconds ≤ 600, companies ≤ 5M, workers ≤ 32")

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    database: Database | None = None
    try:
        database = fresh_database(args, parser, folder)

        env = app_environment(database, folder)
        owners = prepare(database, env, folder, args.companies, args.users)

        owner_paths = [f"/api/v1/companies?owner_id={owner}&per_page=50" for owner in owners]
        search_paths = [f"/api/v1/companies?q={SEARCH_TERM}&per_page=50"]
        scenarios = [
            ("owner_id=<id>&per_page=50", owner_paths, database.owner_queries(), [(owner,) for owner in owners]),
            (f"q={SEARCH_TERM}&per_page=50", search_paths, database.search_queries(), [(f"%{SEARCH_TERM}%",) * 3]),
        ]
        rows = []
        with gunicorn(env, folder, args.workers, args.threads) as port:
            token = api_token(port)
            for label, paths, queries, parameters in scenarios:
                log(
                    f"{database.name}: {label}: API and raw SQL in turn, {args.rounds} rounds of "
                    f"{args.requests // args.rounds} requests, concurrency {args.concurrency}"
                )
                api = Result(label, [], 0, 0.0)
                raw = Result(label, [], 0, 0.0)
                for _ in range(args.rounds):  # alternate, so both sides see the same background load
                    api.add(
                        run_load(
                            label,
                            lambda paths=paths: ApiWorker(port, token, paths),
                            args.requests // args.rounds,
                            args.concurrency,
                            args.seconds / args.rounds,
                            args.warmup // args.rounds,
                        )
                    )
                    raw.add(
                        run_load(
                            label,
                            lambda queries=queries, parameters=parameters: RawWorker(database, queries, parameters),
                            args.requests // args.rounds,
                            args.concurrency,
                            args.seconds / args.rounds,
                            args.warmup // args.rounds,
                        )
                    )
                rows.append((label, api, raw))
        print_table(database.name, args, rows)
        if args.profile:
            profile_in_process(env, owner_paths, args.profile)
        return 0 if all(api.errors == 0 and raw.errors == 0 for _, api, raw in rows) else 1
    finally:
        if database is not None:
            database.drop()
        shutil.rmtree(folder, ignore_errors=True)


def profile_in_process(env: dict[str, str], paths: list[str], requests: int) -> None:
    """Where the API's own CPU time goes: ``requests`` list requests through the Flask test
    client (no HTTP, no gunicorn) under cProfile with a CPU-time clock, top functions by
    cumulative time; and the CPU and wall time per request without the profiler."""
    import cProfile
    import pstats

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from opiekun.app import create_app
        from opiekun.extensions import db

        app = create_app()
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).get_json()[
            "token"
        ]
        headers = {"Authorization": f"Bearer {token}"}

        def run(count: int) -> None:
            for number in range(count):
                response = client.get(paths[number % len(paths)], headers=headers)
                assert response.status_code == 200, response.get_data()

        run(min(100, requests))
        wall, cpu = time.perf_counter(), time.process_time()
        run(requests)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"in-process (Flask test client, one thread): {wall / requests * 1000:.2f} ms wall, "
            f"{cpu / requests * 1000:.2f} ms CPU of this process per request"
        )
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(run, requests)
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(
            r"/core/|opiekun|spectree/plugins|flask/app\.py|sqlalchemy/orm/(session|loading)\.py|pydantic/main|psycopg/cursor",
            25,
        )
        with app.app_context():
            db.engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def print_table(database: str, args, rows) -> None:
    print(
        f"\n{database}: {args.companies:,} companies, {args.users} owners; gunicorn {args.workers} workers × "
        f"{args.threads} threads; concurrency {args.concurrency}; ≤ {args.requests} requests or ≤ {args.seconds:g} s "
        f"per row; {os.cpu_count()} CPUs shared by client, server and database"
    )
    header = f"{'scenario':<28} {'side':<4} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    print(header)
    print("-" * len(header))
    for label, api, raw in rows:
        for side, result in (("api", api), ("raw", raw)):
            print(
                f"{label:<28} {side:<4} {result.count:>8} {result.errors:>6} {result.p50:>8.2f} "
                f"{result.percentile(0.99):>8.2f} {result.rate:>8.1f}"
            )
        throughput = api.rate / raw.rate if raw.rate else float("nan")
        print(f"{'':<28} api/raw: p50 × {api.p50 / raw.p50:.1f}, throughput × {throughput:.2f}")
    print()


if __name__ == "__main__":
    sys.exit(main())
