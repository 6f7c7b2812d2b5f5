#!/usr/bin/env python
"""Benchmark: what the audit plugin costs, and how fast its Excel export is.

Bounded in count and time, on this machine only (in-process requests; child processes for
the exports; the database on loopback or a temporary SQLite file):

1. **Single-record updates, audit on vs. off.** Two fresh databases, one app with the
   ``audit`` plugin and one without any plugin; ``--records`` companies each; then
   ``--updates`` ``PATCH /api/v1/companies/<id>`` requests (bearer token, JSON) through the
   app, alternating between the two apps in rounds so both see the same machine load.
   Prints the mean and p50 per request and the on/off ratio (goal ≤ 1.25×).
2. **Export of ``--entries`` history entries (default 1,000,000) vs. bare openpyxl.**
   The entries are loaded with one set-based ``INSERT … SELECT``; then, each in a child
   process of its own, (a) the plugin's export (``opiekun.plugins.audit.export``, reading
   with a server-side cursor) writes them to an .xlsx, and (b) bare openpyxl write-only
   writes the same rows generated in memory (checked first: the export's newest rows must
   equal the baseline's, value for value and type for type). The two children run
   alternately ``--repeat`` times, since the machine is shared; prints rows/s of both
   (best, median and spread), the throughput ratio of the best runs (goal ≥ 0.8×), the
   ratio of rows per CPU second of each child (steadier when others load the machine) and
   the highest peak RSS of each side above its own baseline (goal ≤ 50 MB).

Usage::

    python bench/audit.py --database postgresql --url postgresql://postgres@127.0.0.1:55503/postgres
    python bench/audit.py --database sqlite --entries 200000

The URL names a maintenance database the benchmark may create and drop databases from
(also ``OPIEKUN_BENCH_DATABASE_URL`` / ``OPIEKUN_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHANGES = [
    {"field": "city", "field_label": "City", "old": "Opole", "new": "Nysa", "old_label": None, "new_label": None}
]


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``; ``ru_maxrss`` would report at least the
    parent's RSS at the fork, which Linux carries across ``exec``)."""
    return _status_mb("VmHWM")


# --- databases ---------------------------------------------------------------------------------


class Databases:
    def __init__(self, kind: str, url: str | None, folder: Path):
        self.kind, self.url, self.folder, self.created = kind, url, folder, []

    def new(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (uuid.uuid4().hex + '.db')}"
        from sqlalchemy import create_engine, text

        name = f"opiekun_bench_{uuid.uuid4().hex[:10]}"
        engine = create_engine(_psycopg(self.url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return _psycopg(self.url.rsplit("/", 1)[0] + f"/{name}")

    def drop_all(self) -> None:
        if not self.created:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(_psycopg(self.url), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def make_app(database_url: str, instance: Path, plugins: tuple[str, ...]):
    from opiekun.app import create_app
    from opiekun.config import Settings
    from opiekun.migration_runner import upgrade_schema

    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(
        Settings(
            instance_path=instance,
            database_url=database_url,
            redis_url=None,
            plugins=plugins,
            secret_key="bench-secret-key-of-at-least-32-bytes",
            trace_hooks=False,
        )
    )
    with app.app_context():
        upgrade_schema()
    return app


# --- 1. single-record updates --------------------------------------------------------------------


class UpdateRun:
    def __init__(self, label: str, app, records: int):
        from opiekun.extensions import db
        from opiekun.models import Company, User

        self.label, self.app, self.times = label, app, []
        with app.app_context():
            admin = User(email="admin@bench.example", name="Bench Admin", role="admin", status="active")
            admin.set_password("bench-admin-password")
            db.session.add(admin)
            db.session.flush()
            db.session.add_all([Company(name=f"Firma {n}", city="Opole", owner_id=admin.id) for n in range(records)])
            db.session.commit()
            self.ids = list(db.session.scalars(db.select(Company.id)))
        self.client = app.test_client()
        token = self.client.post(
            "/api/v1/auth/token", json={"email": "admin@bench.example", "password": "bench-admin-password"}
        ).get_json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.count = 0

    def one(self) -> None:
        record_id = self.ids[self.count % len(self.ids)]
        self.count += 1
        city = f"Miasto {self.count}"
        started = time.perf_counter()
        response = self.client.patch(f"/api/v1/companies/{record_id}", json={"city": city}, headers=self.headers)
        self.times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)


def bench_updates(databases: Databases, folder: Path, records: int, updates: int, rounds: int = 10) -> dict:
    on = UpdateRun("audit on", make_app(databases.new(), folder / "on", ("audit",)), records)
    off = UpdateRun("audit off", make_app(databases.new(), folder / "off", ()), records)
    for run in (on, off):  # warm-up
        for _ in range(20):
            run.one()
        run.times.clear()
    per_round = max(1, updates // rounds)
    for _ in range(rounds):
        for run in (off, on):
            for _ in range(per_round):
                run.one()
    with on.app.app_context():
        from opiekun.extensions import db

        entries = db.session.scalar(db.text("SELECT count(*) FROM audit_entries"))
    for run in (on, off):
        with run.app.app_context():
            from opiekun.extensions import db

            db.session.remove()
            db.engine.dispose()
    return {
        "updates": len(on.times),
        "audit_entries_written": entries,
        "on_mean_ms": statistics.mean(on.times) * 1000,
        "off_mean_ms": statistics.mean(off.times) * 1000,
        "on_p50_ms": statistics.median(on.times) * 1000,
        "off_p50_ms": statistics.median(off.times) * 1000,
    }


# --- 2. export ---------------------------------------------------------------------------------


def load_entries(app, count: int) -> None:
    """One set-based INSERT … SELECT of ``count`` entries (plus the user they name)."""
    from opiekun.extensions import db

    changes = json.dumps(CHANGES)
    with app.app_context():
        connection = db.session.connection()
        connection.execute(
            db.text(
                "INSERT INTO users (id, email, name, password_hash, role, status, token_generation, "
                "created_at) VALUES (1, 'ada@bench.example', 'Ada Admin', '', 'admin', 'active', 0, "
                ":at)"
            ),
            {"at": START},
        )
        if connection.dialect.name == "postgresql":
            connection.execute(
                db.text(
                    "INSERT INTO audit_entries (id, at, user_id, user_name, job, object_type, object_id, object_name, "
                    "object_url, operation, changes, context, hash) SELECT g, :start + g * interval '1 second', 1, "
                    "'Ada Admin', NULL, 'company', g, 'Firma ' || g, '/admin/company/details/?id=' || g, 'update', "
                    "CAST(:changes AS json), NULL, NULL FROM generate_series(1, :count) AS g"
                ),
                {"start": START, "changes": changes, "count": count},
            )
        else:
            connection.execute(
                db.text(
                    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count) "
                    "INSERT INTO audit_entries (id, at, user_id, user_name, job, object_type, object_id, object_name, "
                    "object_url, operation, changes, context, hash) SELECT n, "
                    "strftime('%Y-%m-%d %H:%M:%f', '2026-01-01 00:00:00', '+' || n || ' seconds') || '000', 1, "
                    "'Ada Admin', NULL, 'company', n, 'Firma ' || n, '/admin/company/details/?id=' || n, 'update', "
                    ":changes, NULL, NULL FROM g"
                ),
                {"changes": changes, "count": count},
            )
        db.session.commit()


def same_rows(count: int):
    """The rows the export writes for the loaded entries (newest first), made in memory."""
    from opiekun.plugins.audit.export import changes_text

    text = changes_text(CHANGES)
    for n in range(count, 0, -1):
        at = (START + dt.timedelta(seconds=n)).replace(tzinfo=None)
        yield (
            n,
            at,
            1,
            "Ada Admin",
            None,
            "company",
            n,
            f"Firma {n}",
            f"/admin/company/details/?id={n}",
            "update",
            text,
            "",
        )


def child_export(database_url: str, instance: str, target: str) -> dict:
    """(in a child process) the plugin's export of every entry."""
    from opiekun.app import create_app
    from opiekun.config import Settings

    app = create_app(
        Settings(
            instance_path=Path(instance),
            database_url=database_url,
            redis_url=None,
            plugins=("audit",),
            secret_key="bench-secret-key-of-at-least-32-bytes",
            trace_hooks=False,
        )
    )
    with app.app_context():
        from opiekun.plugins.audit.export import export_history
        from opiekun.plugins.audit.history import HistoryFilter

        baseline = rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        rows = export_history(HistoryFilter(), target)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
        "file_mb": os.path.getsize(target) / 2**20,
    }


def child_bare(count: int, target: str) -> dict:
    """(in a child process) bare openpyxl write-only, the same rows and header."""
    from openpyxl import Workbook

    from opiekun.plugins.audit.export import HEADER

    rows = same_rows(count)
    baseline = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("History")
    sheet.append(HEADER)
    written = 0
    for row in rows:
        sheet.append(row)
        written += 1
    workbook.save(target)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "rows": written,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
        "file_mb": os.path.getsize(target) / 2**20,
    }


def run_child(arguments: list[str], timeout: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPOSITORY,
    )
    if output.returncode != 0:
        raise SystemExit(f"child {arguments[0]} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def check_same_rows(app, count: int, sample: int = 2000) -> None:
    """The baseline is fair only if it writes what the export writes: compare the export's
    first ``sample`` rows with the baseline's, values and types."""
    from itertools import islice

    from opiekun.plugins.audit.export import entry_rows
    from opiekun.plugins.audit.history import HistoryFilter

    def typed(rows):
        return [[(type(value), value) for value in row] for row in rows]

    with app.app_context():
        exported = typed(islice(entry_rows(HistoryFilter()), sample))
    if exported != typed(islice(same_rows(count), sample)):
        raise SystemExit("the baseline's rows differ from the export's: the comparison would not be fair")


def bench_export(databases: Databases, folder: Path, entries: int, repeat: int, timeout: int) -> dict:
    url = databases.new()
    app = make_app(url, folder / "export", ("audit",))
    started = time.perf_counter()
    load_entries(app, entries)
    load_seconds = time.perf_counter() - started
    check_same_rows(app, entries)
    with app.app_context():
        from opiekun.extensions import db

        db.session.remove()
        db.engine.dispose()
    plugin, bare = [], []
    for _ in range(repeat):  # alternately, so both sides see the same machine load
        plugin.append(run_child(["plugin", url, str(folder / "export"), str(folder / "plugin.xlsx")], timeout))
        bare.append(run_child(["bare", str(entries), str(folder / "bare.xlsx")], timeout))
    return {"entries": entries, "load_seconds": load_seconds, "plugin": plugin, "bare": bare}


def summary(runs: list[dict]) -> dict:
    """Rows/s of the best run, the median and the spread, rows per CPU second of the best
    run; the highest peak RSS above baseline."""
    rates = sorted(run["rows"] / run["seconds"] for run in runs)
    worst = max(runs, key=lambda run: run["peak_mb"] - run["baseline_mb"])
    return {
        "rows": runs[0]["rows"],
        "best": rates[-1],
        "median": statistics.median(rates),
        "low": rates[0],
        "best_cpu": max(run["rows"] / run["cpu_seconds"] for run in runs),
        "above_mb": worst["peak_mb"] - worst["baseline_mb"],
        "peak_mb": worst["peak_mb"],
        "baseline_mb": worst["baseline_mb"],
        "file_mb": runs[0]["file_mb"],
    }


def print_export(result: dict) -> None:
    plugin, bare = summary(result["plugin"]), summary(result["bare"])
    print(
        f"\n(2) export of {result['entries']:,} entries (loaded set-based in {result['load_seconds']:.1f} s), "
        f"{len(result['plugin'])} run(s) per side"
    )
    for name, side in (("plugin export", plugin), ("bare openpyxl", bare)):
        print(
            f"    {name}: {side['rows']:,} rows; best {side['best']:,.0f} rows/s, median {side['median']:,.0f}, "
            f"lowest {side['low']:,.0f}; peak RSS {side['peak_mb']:.0f} MB, {side['above_mb']:+.1f} MB above its "
            f"baseline of {side['baseline_mb']:.0f} MB; file {side['file_mb']:.1f} MB"
        )
    ratio = plugin["best"] / bare["best"]
    pairs = [
        (p["rows"] / p["seconds"]) / (b["rows"] / b["seconds"])
        for p, b in zip(result["plugin"], result["bare"], strict=False)
    ]
    print(
        f"    throughput ratio plugin/bare (best runs): {ratio:.3f}x  goal >= 0.8x: "
        f"{'met' if ratio >= 0.8 else 'MISSED'}; run by run: {', '.join(f'{r:.3f}' for r in pairs)}"
    )
    print(
        f"    rows per CPU second of the child alone (steadier on a shared machine; the database server's "
        f"share is not counted): plugin {plugin['best_cpu']:,.0f}, bare {bare['best_cpu']:,.0f}, "
        f"ratio {plugin['best_cpu'] / bare['best_cpu']:.3f}x"
    )
    print(f"    memory goal <= 50 MB above baseline: {'met' if plugin['above_mb'] <= 50 else 'MISSED'}")


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind = sys.argv[2]
        if kind == "plugin":
            result = child_export(*sys.argv[3:6])
        else:
            result = child_bare(int(sys.argv[3]), sys.argv[4])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=None, help="default: 1,000,000 (PostgreSQL), 200,000 (SQLite)")
    parser.add_argument("--repeat", type=int, default=3, help="export runs per side, alternately (default 3)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per export child")
    parser.add_argument("--skip-updates", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    options = parser.parse_args()
    if options.database == "postgresql" and not options.url:
        parser.error("give --url postgresql://… (or OPIEKUN_BENCH_DATABASE_URL)")
    entries = options.entries or (1_000_000 if options.database == "postgresql" else 200_000)
    import logging

    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-audit-"))
    databases = Databases(options.database, options.url, folder)
    print(f"audit benchmark on {options.database}")
    try:
        if not options.skip_updates:
            result = bench_updates(databases, folder, options.records, options.updates)
            ratio = result["on_mean_ms"] / result["off_mean_ms"]
            print(
                f"\n(1) single-record PATCH /api/v1/companies/<id>, {result['updates']} per side, "
                f"{result['audit_entries_written']} audit entries written"
            )
            print(f"    audit off: mean {result['off_mean_ms']:.2f} ms, p50 {result['off_p50_ms']:.2f} ms")
            print(f"    audit on : mean {result['on_mean_ms']:.2f} ms, p50 {result['on_p50_ms']:.2f} ms")
            print(
                f"    ratio on/off (mean): {ratio:.3f}x  (p50: {result['on_p50_ms'] / result['off_p50_ms']:.3f}x)  "
                f"goal <= 1.25x: {'met' if ratio <= 1.25 else 'MISSED'}"
            )
        if not options.skip_export:
            print_export(bench_export(databases, folder, entries, options.repeat, options.timeout))
    finally:
        databases.drop_all()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
