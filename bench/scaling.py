#!/usr/bin/env python
"""Benchmark: does bulk work grow linearly? Time per item and peak memory of three kinds of
bulk work at growing sizes (a script, not a test; local database only; bounded).

For each size in ``--sizes`` (default 10,000, 100,000 and 1,000,000) and each work in
``--work``, a child process gets a fresh database, loads its data set-based, runs the work
once with every built-in plugin on, and reports wall time and its own peak RSS (``VmHWM``):

* **bulk**: the API's bulk owner change, ``POST /api/v1/ownership/assignments`` with
  ``{"filter": {"owner_id": …}, "on_overlap": "replace"}`` through the Flask test client
  (token, validation, service, commit, answer), moving *size* companies from one owner to
  another; each company has its primary owner period and a ``create`` audit entry, and
  *size* / 10 more companies belong to others.
* **transfer**: the offboarding transfer of a departed user's *size* items (the mix of
  ``bench/offboarding.py``: companies, persons, leads, deals, offers, invoices, tasks and
  deputy periods, plus *size* / 5 items of other users): the API's planning and the job
  as rq runs it, in-process.
* **export**: the audit plugin's Excel export of a history of *size* entries
  (``export_history``, what the export job runs).

Prints, per work and size: seconds, µs per item, the per-item time against the smallest
size (goal: flat within 20 %), and peak RSS in MB (goal: flat).

Usage::

    python bench/scaling.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/scaling.py --database sqlite --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import audit as audit_bench  # noqa: E402 - the sibling benchmarks' loaders
import offboarding as offboarding_bench  # noqa: E402

WORKS = ("bulk", "transfer", "export")
PLUGINS = ("ownership", "tasks", "audit", "offboarding", "webhooks")
GOAL_SPREAD = 1.2


# --- in the child: one work at one size --------------------------------------------------------


def load_companies(db, sql, size: int) -> None:
    """``size`` companies of the departed user and ``size`` / 10 of others, each with its
    primary period and a ``create`` entry in the history (as the app would have made them)."""
    from sqlalchemy import text

    offboarding_bench.load(db, sql, items=0, others=100)  # users, a pipeline, the audit chain head
    total = size + size // 10
    owner = offboarding_bench.owner_sql(size, total)
    db.session.execute(
        text(
            "INSERT INTO companies (name, city, owner_id, created_by_id, created_at, updated_at) "
            f"SELECT 'Skala ' || n, 'Kraków', {owner}, {offboarding_bench.ADMIN}, {sql.moment('n % 600')}, "
            f"{sql.moment('n % 600')} FROM ({sql.series(total)}) AS s"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, "
            f"access, created_by_id, created_at) SELECT 'company', id, owner_id, 'primary', 'sales', "
            f"{sql.date_of('created_at')}, NULL, 'write', {offboarding_bench.ADMIN}, created_at FROM companies "
            "WHERE name LIKE 'Skala %'"
        )
    )
    db.session.execute(
        text(
            "INSERT INTO audit_entries (at, user_id, user_name, job, object_type, object_id, object_name, object_url, "
            f"operation, changes, context, hash) SELECT created_at, {offboarding_bench.ADMIN}, 'Ada Admin', NULL, "
            f"'company', id, name, '/admin/company/details/?id=' || id, 'create', {sql.json(repr('[]'))}, NULL, "
            f"'{offboarding_bench.FAKE_HASH}' FROM companies WHERE name LIKE 'Skala %'"
        )
    )
    db.session.commit()


def run_bulk(app, db, sql, size: int) -> dict:
    from opiekun.auth import issue_token
    from opiekun.models import User

    load_companies(db, sql, size)
    offboarding_bench.analyze(db)
    with app.app_context():
        token = issue_token(db.session.get(User, offboarding_bench.ADMIN))
    db.session.remove()
    client = app.test_client()
    body = {
        "object_type": "company",
        "user_id": offboarding_bench.RECIPIENT,
        "filter": {"owner_id": str(offboarding_bench.DEPARTED)},
        "on_overlap": "replace",
    }
    started = time.perf_counter()
    response = client.post("/api/v1/ownership/assignments", json=body, headers={"Authorization": f"Bearer {token}"})
    seconds = time.perf_counter() - started
    answer = response.get_json()
    assert response.status_code == 201 and answer["created"] == size, answer
    return {"seconds": seconds, "items": size}


def run_transfer(app, db, sql, size: int) -> dict:
    offboarding_bench.load(db, sql, items=size, others=max(1_000, size // 5))
    offboarding_bench.analyze(db)
    run = offboarding_bench.run_transfer_once(db)
    assert run["moved"] == size, run
    return {"seconds": run["seconds"], "items": size}


def run_export(app, db, sql, size: int, folder: Path) -> dict:
    audit_bench.load_entries(app, size)
    offboarding_bench.analyze(db)
    from opiekun.plugins.audit.export import export_history
    from opiekun.plugins.audit.history import HistoryFilter

    started = time.perf_counter()
    rows = export_history(HistoryFilter(), str(folder / "history.xlsx"))
    seconds = time.perf_counter() - started
    assert rows == size, rows
    return {"seconds": seconds, "items": size}


def child(work: str, size: int, database: str, url: str | None) -> dict:
    from opiekun.app import create_app
    from opiekun.config import Settings
    from opiekun.extensions import db
    from opiekun.migration_runner import upgrade_schema

    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-scaling-"))
    databases = audit_bench.Databases(database, url, folder)
    try:
        plugins = ("audit",) if work == "export" else PLUGINS  # an export reads the history alone
        app = create_app(
            Settings(
                instance_path=folder,
                database_url=databases.new(),
                redis_url=None,
                plugins=plugins,
                secret_key="bench-secret-key-of-at-least-32-bytes",
            )
        )
        with app.app_context():
            upgrade_schema()
            sql = offboarding_bench.Dialect(db.engine.dialect.name)
            baseline = audit_bench.rss_mb()
            if work == "bulk":
                result = run_bulk(app, db, sql, size)
            elif work == "transfer":
                result = run_transfer(app, db, sql, size)
            else:
                result = run_export(app, db, sql, size, folder)
            db.session.remove()
            db.engine.dispose()
        return {**result, "baseline_mb": baseline, "peak_mb": audit_bench.peak_rss_mb()}
    finally:
        databases.drop_all()


# --- in the parent: every work at every size ----------------------------------------------------


def measure(work: str, size: int, args) -> dict:
    command = [sys.executable, __file__, "--child", work, str(size), "--database", args.database]
    if args.url:
        command += ["--url", args.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    if done.returncode != 0:
        raise SystemExit(f"{work} at {size:,} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(database: str, results: dict[str, list[tuple[int, dict]]]) -> None:
    print(f"\n{database}, {os.cpu_count()} CPUs; every built-in plugin on (the export: audit)")
    header = f"{'work':<9} {'items':>10} {'seconds':>9} {'µs/item':>9} {'vs first':>9} {'peak RSS MB':>12}"
    print(header)
    print("-" * len(header))
    for work, rows in results.items():
        first = rows[0][1]["seconds"] / rows[0][0]
        spreads = []
        for size, result in rows:
            per_item = result["seconds"] / size
            spreads.append(per_item / first)
            print(
                f"{work:<9} {size:>10,} {result['seconds']:>9.2f} {per_item * 1e6:>9.1f} {per_item / first:>8.2f}× "
                f"{result['peak_mb']:>12.0f}"
            )
        verdict = "flat" if max(spreads) <= GOAL_SPREAD else "NOT flat"
        print(f"{'':<9} per-item time {verdict} (max {max(spreads):.2f}× the first; goal ≤ {GOAL_SPREAD}×)")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma separated item counts")
    parser.add_argument("--work", default=",".join(WORKS), help=f"comma separated, of {', '.join(WORKS)}")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per child (default 3600)")
    parser.add_argument("--child", nargs=2, metavar=("WORK", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database == "postgresql" and not args.url:
        parser.error("give --url (a PostgreSQL maintenance database on this machine)")
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.database, args.url)))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    works = [work.strip() for work in args.work.split(",")]
    if not all(1_000 <= size <= 2_000_000 for size in sizes) or not set(works) <= set(WORKS):
        parser.error(f"sizes between 1,000 and 2,000,000; works of {', '.join(WORKS)}")
    results: dict[str, list[tuple[int, dict]]] = {}
    for work in works:
        for size in sizes:
            print(f"{work} at {size:,} items…", file=sys.stderr, flush=True)
            result = measure(work, size, args)
            print(f"    {result['seconds']:.2f} s, peak RSS {result['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
            results.setdefault(work, []).append((size, result))
    print_table(args.database, results)


if __name__ == "__main__":
    main()
