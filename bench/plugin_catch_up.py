#!/usr/bin/env python
"""Benchmark: a plugin back from a time off catching up — ownership after companies were
deleted, given other owners and created while it was off (what ``opiekun init`` runs).

What it does, bounded in count and time and on loopback only:

1. creates a fresh database (as ``bench/api_list.py`` does), runs ``opiekun init``, loads
   ``--companies`` companies for ``--users`` owners with set-based SQL and gives each its
   owner period (ownership's daily job, set-based);
2. switches ownership off (an app started without it notes that), then, around the app as
   a team working without the plugin would, deletes ``--changed`` percent of the
   companies, gives as many other owners and creates as many;
3. switches ownership on and times the catching up (``reconcile_resumed_plugins``), then
   a second run (nothing left to do);
4. prints both times and the time per changed company.

Usage::

    python bench/plugin_catch_up.py --database postgresql --url postgresql://postgres@127.0.0.1:55432/postgres
    python bench/plugin_catch_up.py --database sqlite --companies 100000
"""

from __future__ import annotations

import argparse
import dataclasses
import os
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


def app_with(folder: Path, disabled: tuple[str, ...] = ()):
    from opiekun.app import create_app
    from opiekun.config import Settings

    return create_app(dataclasses.replace(Settings.from_environment(folder), plugins_disabled=disabled))


def change_while_off(database, percent: int) -> int:
    """Delete, re-own and create ``percent`` % of the companies each, around the app."""
    connection = database.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*), max(id) FROM companies")
        count, last = cursor.fetchone()
        step = max(1, 100 // percent)
        cursor.execute(f"DELETE FROM companies WHERE id % {step} = 0")
        cursor.execute(
            f"UPDATE companies SET owner_id = (SELECT min(id) FROM users WHERE role = 'user' AND status = 'active' "
            f"AND id <> companies.owner_id) WHERE id % {step} = 1"
        )
        cursor.execute(
            "INSERT INTO companies (name, owner_id, created_by_id, created_at, updated_at) "
            f"SELECT 'Nowa ' || id, owner_id, owner_id, created_at, updated_at FROM companies WHERE id % {step} = 2"
        )
        connection.commit()
        return count // step * 3
    finally:
        connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--url", help="PostgreSQL server URL (default: $OPIEKUN_BENCH_DATABASE_URL)")
    parser.add_argument("--companies", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--changed", type=int, default=5, help="percent deleted, re-owned and created, each")
    args = parser.parse_args()
    if not (0 < args.companies <= 2_000_000 and 10 <= args.users <= 10_000 and 1 <= args.changed <= 30):
        parser.error("keep it bounded: companies ≤ 2M, 10 ≤ users ≤ 10k, 1 ≤ changed ≤ 30")

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-"))
    database = fresh_database(args, parser, folder)
    try:
        os.environ.update(
            OPIEKUN_DATABASE_URL=database.url(),
            OPIEKUN_INSTANCE_PATH=str(folder),
            OPIEKUN_SECRET_KEY="bench-secret-key-" + uuid.uuid4().hex,
        )
        run_opiekun(dict(os.environ), folder, "init")
        run_opiekun(dict(os.environ), folder, "create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
        database.load(args.companies, args.users)
        from opiekun.extensions import db
        from opiekun.plugin_activity import note_plugin_activity, reconcile_resumed_plugins, summary_lines
        from opiekun.plugins.ownership.sync import apply_periods

        everything = app_with(folder)
        with everything.app_context():
            began = time.perf_counter()
            apply_periods()
            db.session.commit()
            if db.engine.dialect.name == "postgresql":  # a database that has lived a while has statistics
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("ANALYZE")
            note_plugin_activity()
            log(f"{database.name}: {args.companies:,} companies with periods in {time.perf_counter() - began:.1f} s")

        without = app_with(folder, disabled=("ownership", "offboarding"))
        with without.app_context():
            note_plugin_activity()
        changed = change_while_off(database, args.changed)

        back = app_with(folder)
        print(
            f"ownership catching up on {database.name}: {args.companies:,} companies, "
            f"{changed:,} deleted, re-owned or created while it was off"
        )
        with back.app_context():
            note_plugin_activity()
            for run in ("first", "second"):
                began = time.perf_counter()
                done = reconcile_resumed_plugins()
                seconds = time.perf_counter() - began
                lines = "; ".join(str(line) for gap in done for line in summary_lines(gap)) or "nothing to do"
                per_thousand = f", {seconds / changed * 1000 * 1000:.0f} ms per 1,000 changed" if run == "first" else ""
                print(f"    {run} run: {seconds:.2f} s{per_thousand} ({lines})")
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
