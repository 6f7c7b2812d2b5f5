#!/usr/bin/env python
"""Benchmark: the panel's company list (Flask-Admin, logged in, over HTTP) at a million rows.

What it does, bounded in count and time and on loopback only (the database, loading and
server of ``bench/api_list.py``):

1. creates a fresh database, runs ``opiekun init`` and ``opiekun create-admin``, loads
   ``--companies`` companies (default 1,000,000) owned by ``--users`` users (default 50)
   with set-based SQL, and analyses the tables as autovacuum would;
2. serves the app with gunicorn on 127.0.0.1 and logs in through the panel's login form;
3. with ``--concurrency`` keep-alive clients, asks at most ``--requests`` pages (and at most
   ``--seconds`` seconds) per scenario: the whole list, the list filtered by owner (the
   "Opiekun" filter, a different owner each time) and the search box (``kowal``, one
   company in ten); every page is 50 rows with its count ("Lista (…)") and pager;
4. prints p50, p99 and pages/s per scenario against the goal (p50 ≤ 150 ms, counts included);
5. stops gunicorn and drops the database.

Usage::

    python bench/admin_list.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/admin_list.py --database sqlite --companies 100000
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_list import (  # noqa: E402 - the sibling benchmark's database, loading and server
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    SEARCH_TERM,
    Database,
    Result,
    app_environment,
    fresh_database,
    gunicorn,
    log,
    prepare,
    run_load,
)

GOAL_P50_MS = 150
OWNER_FILTER_LABEL = "Opiekun"  # "Owner" in Polish, the panel's default language


class PanelSession:
    """A logged-in panel session: the session cookie of one login through the form."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, text

    def log_in(self) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf_token" value="([^"]+)"', page
        )
        if token is None:
            raise RuntimeError("no CSRF token on the login page")
        form = urllib.parse.urlencode({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token.group(1)})
        status, _ = self.request("POST", "/login", form)
        if status not in (302, 303):
            raise RuntimeError(f"the login failed: HTTP {status}")

    def filter_argument(self, list_path: str, label: str) -> str:
        """The URL argument of the list filter shown as ``label`` (as the filter menu builds it)."""
        _, page = self.request("GET", list_path)
        data = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S)
        return json.loads(html.unescape(data.group(1)))[label][0]["arg"]


class PanelWorker:
    """One keep-alive connection asking list pages of the panel, with the session's cookie."""

    def __init__(self, port: int, cookie: str, paths: list[str]):
        self.port, self.paths = port, paths
        self.headers = {"Cookie": cookie}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def __call__(self, number: int) -> bool:
        path = self.paths[number % len(self.paths)]
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        page = response.read().decode()
        if response.status != 200 or "Lista (" not in page:
            log(f"{path}: HTTP {response.status}, {'a list' if 'Lista (' in page else 'no list'}")
            return False
        return True

    def close(self) -> None:
        self.connection.close()


def scenarios(session: PanelSession, owners: list[int]) -> list[tuple[str, list[str]]]:
    owner_argument = session.filter_argument("/admin/company/", OWNER_FILTER_LABEL)
    return [
        ("whole list", ["/admin/company/"]),
        ("owner filter", [f"/admin/company/?flt0_{owner_argument}={owner}" for owner in owners]),
        (f"search {SEARCH_TERM}", [f"/admin/company/?search={SEARCH_TERM}"]),
    ]


def shown_count(session: PanelSession, path: str) -> str:
    _, page = session.request("GET", path)
    found = re.search(r"Lista \(([^)]*)\)", html.unescape(page))
    return found.group(1).replace("\xa0", " ") if found else "?"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="PostgreSQL server URL (default: $OPIEKUN_BENCH_DATABASE_URL)")
    parser.add_argument("--companies", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300, help="measured pages per scenario")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60, help="time limit per scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    args = parser.parse_args()
    if not (
        0 < args.requests <= 10_000
        and 0 < args.concurrency <= 16
        and 0 < args.seconds <= 600
        and 0 < args.companies <= 5_000_000
        and 0 < args.users <= 10_000
        and 0 < args.workers <= 32
    ):
        parser.error("keep it bounded: requests ≤ 10k, concurrency ≤ 16, seconds ≤ 600, companies ≤ 5M, workers ≤ 32")

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    database: Database | None = None
    try:
        database = fresh_database(args, parser, folder)
        env = app_environment(database, folder)
        owners = prepare(database, env, folder, args.companies, args.users)

        rows = []
        with gunicorn(env, folder, args.workers, args.threads) as port:
            session = PanelSession(port)
            session.log_in()
            cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
            for label, paths in scenarios(session, owners):
                log(f"{database.name}: {label}: {args.requests} pages, concurrency {args.concurrency}")
                result = run_load(
                    label,
                    lambda paths=paths: PanelWorker(port, cookie, paths),
                    args.requests,
                    args.concurrency,
                    args.seconds,
                    args.warmup,
                )
                rows.append((label, result, shown_count(session, paths[0])))
        print_table(database.name, args, rows)
        return 0 if all(result.errors == 0 for _, result, _ in rows) else 1
    finally:
        if database is not None:
            database.drop()
        shutil.rmtree(folder, ignore_errors=True)


def print_table(database: str, args, rows: list[tuple[str, Result, str]]) -> None:
    print(
        f"\n{database}: the panel's company list at {args.companies:,} companies, {args.users} owners; gunicorn "
        f"{args.workers} workers × {args.threads} threads; concurrency {args.concurrency}; "
        f"{os.cpu_count()} CPUs shared by client, server and database"
    )
    header = f"{'scenario':<16} {'pages':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'pages/s':>8}  count shown"
    print(header)
    print("-" * len(header))
    for label, result, count in rows:
        verdict = "≤" if result.p50 <= GOAL_P50_MS else ">"
        print(
            f"{label:<16} {result.count:>6} {result.errors:>6} {result.p50:>8.1f} {result.percentile(0.99):>8.1f} "
            f"{result.rate:>8.1f}  Lista ({count});  p50 {verdict} {GOAL_P50_MS} ms"
        )
    print()


if __name__ == "__main__":
    sys.exit(main())
