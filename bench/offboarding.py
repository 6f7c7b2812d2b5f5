#!/usr/bin/env python
"""Benchmark of the offboarding transfer (a script, not a test; local database only; bounded).

A departed user owns ``--items`` mixed items (default 100,000): companies, persons, leads,
deals (a third won or lost), offers, invoices (most paid), tasks (half done) and deputy
periods on other users' companies; ``--others`` more items (default 100,000) belong to 50
other users. Every record has the primary ownership period a record made in the app has
(started in the past, some after an earlier owner's period), a ``create`` entry in the
audit history and a chain head. Plugins on: ownership, tasks, audit, offboarding (all the
built-ins). The data is loaded set-based once, then copied for every measurement, so each
one starts from the same state (PostgreSQL: ``CREATE DATABASE … TEMPLATE``, then
``pg_prewarm`` of every table and index; SQLite: a copy of the file).

Measured, ``--repeat`` times each (default 3, interleaved), all items to one recipient:

* **transfer**: ``planning.create_transfer`` (the preview and the plan, as the API's
  ``POST /offboarding/transfers`` does) and the job ``offboarding.transfer`` through
  ``opiekun.jobs.run_job`` — the function an rq worker executes, run here in-process
  without a worker or Redis: ``run_transfer``, one committed step per record type, every
  change going through the change stream to audit, ownership and offboarding.
* **raw-SQL floor**: what the issue names the floor, one transaction: per record table one
  ``INSERT INTO audit_entries … SELECT`` of the history rows the audit must write at least
  (same columns and JSON as the plugin writes, but the constant ``changes`` and ``context``
  bound once, no hash chain) and one ``UPDATE … SET owner_id = :to, updated_at = :now WHERE
  owner_id = :from``; plus one ``UPDATE`` handing the deputy periods over.
* **full-write floor** (for reference): the floor plus the other rows the transfer must
  write — each record's primary period ends and a new one starts (``UPDATE`` + ``INSERT …
  SELECT`` per table), deputy periods end and continue under the recipient, and one
  ``offboarding_moved_items`` row per record for undo.
* **naive ORM loop**: per item ``session.get``, set ``owner_id``, ``flush`` — the ORM change
  stream fires every hook (audit, ownership, offboarding) per object; deputy periods end
  and are copied as ORM objects. ``--loop-sample`` items (default 1,000, each type in its
  share) in one transaction, extrapolated linearly to ``--items`` (said so in the output).

Prints best / median / worst wall time and items/s of each, the ratio transfer / floor
(goal ≤ 2.5×, ``GOAL_RATIO``) and the speed-up over the loop (goal ≥ 20×). ``--profile`` runs the transfer
once more with every hook implementation timed (wall, SQL, statements by kind) and writes a
pyinstrument profile.

Usage::

    python bench/offboarding.py --database postgresql --url postgresql://postgres@127.0.0.1:55435/postgres
    python bench/offboarding.py --database sqlite
    python bench/offboarding.py --database postgresql --url … --repeat 1 --profile

PostgreSQL: the URL names a maintenance database; two fresh databases (the loaded state
and the working copy) are created and dropped. Reported numbers come from a server started
with ``-c fsync=off -c synchronous_commit=off -c shared_buffers=512MB`` (PostgreSQL 15).
Query plans of the slow statements: run with ``PGOPTIONS="-c session_preload_libraries=auto_explain
-c auto_explain.log_min_duration=200 -c auto_explain.log_analyze=on"`` and read the server log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Date, bindparam, create_engine, event, text

PLUGINS = ("ownership", "tasks", "audit", "offboarding")
ADMIN, DEPARTED, RECIPIENT, FIRST_OTHER = 1, 2, 3, 4
OTHER_USERS = 50
DAY_ZERO = "2024-01-01"
#: transfer / raw-SQL floor: the scale work's goal (the first offboarding work asked for 2×)
GOAL_RATIO = 2.5
FAKE_HASH = "f" * 64  # existing entries' hashes are not verified here, only stored


@dataclass(frozen=True)
class Kind:
    """One record type of the mix: its table, its share of the items (percent), the SQL
    of its display name (as ``display_name_expression`` gives it) and the column of its
    owner (a task's is ``responsible_id``, the model's ``owner_id``)."""

    object_type: str
    table: str
    share: int
    name_sql: str
    owner: str = "owner_id"


KINDS = (
    Kind("company", "companies", 15, "name"),
    Kind("person", "persons", 20, "first_name || ' ' || last_name"),
    Kind("lead", "leads", 10, "name"),
    Kind("deal", "deals", 15, "name"),
    Kind("offer", "offers", 8, "name"),
    Kind("invoice", "invoices", 10, "number"),
    Kind("task", "tasks", 20, "title", owner="responsible_id"),
)
#: The rest of the items: the departed user's deputy periods on other users' companies.
DEPUTY_SHARE = 2


def split(items: int) -> tuple[dict[str, int], int]:
    """Items per record type and the deputy periods; the rounding goes to tasks."""
    counts = {kind.object_type: items * kind.share // 100 for kind in KINDS}
    deputies = items * DEPUTY_SHARE // 100
    counts["task"] += items - deputies - sum(counts.values())
    return counts, deputies


# --- databases ---------------------------------------------------------------------------------


def psycopg_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


class Snapshots:
    """One working database the app is bound to, and a saved copy of the loaded state that
    :meth:`restore` puts back before every measurement."""

    def __init__(self, kind: str, url: str | None, folder: Path):
        self.kind, self.folder = kind, folder
        if kind == "sqlite":
            self.work_file, self.saved_file = folder / "work.db", folder / "saved.db"
            self.url = f"sqlite:///{self.work_file}"
            return
        stem = f"opiekun_bench_offboarding_{uuid.uuid4().hex[:8]}"
        self.work, self.saved = stem, stem + "_saved"
        self.admin = create_engine(psycopg_url(url), isolation_level="AUTOCOMMIT")
        self._admin(f'CREATE DATABASE "{self.work}"')
        self.url = psycopg_url(url.rsplit("/", 1)[0] + f"/{self.work}")

    def _admin(self, sql: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def save(self, db) -> None:
        """Keep the loaded state (the app's connections are closed first)."""
        release(db)
        if self.kind == "sqlite":
            shutil.copyfile(self.work_file, self.saved_file)
        else:
            self._admin(f'CREATE DATABASE "{self.saved}" TEMPLATE "{self.work}"')

    def restore(self, db) -> None:
        """Put the loaded state back in the working database and warm its cache."""
        release(db)
        if self.kind == "sqlite":
            for suffix in ("-wal", "-shm"):
                Path(f"{self.work_file}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.saved_file, self.work_file)
            return
        self._admin(f'DROP DATABASE "{self.work}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.work}" TEMPLATE "{self.saved}"')
        db.session.execute(
            text(
                "SELECT pg_prewarm(c.oid) FROM pg_class c "
                "WHERE c.relkind IN ('r', 'i') AND c.relnamespace = 'public'::regnamespace"
            )
        )
        db.session.commit()

    def drop(self) -> None:
        if self.kind == "sqlite":
            return
        for name in (self.work, self.saved):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def release(db) -> None:
    """Close every connection of the app (a SQLite file is checkpointed first)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    db.session.commit()
    db.session.remove()
    db.engine.dispose()


# --- SQL that differs between the databases ----------------------------------------------------


class Dialect:
    def __init__(self, name: str):
        self.name = name

    def series(self, count: int) -> str:
        """A SELECT of ``n`` = 1..count, set-based on both databases."""
        if self.name == "postgresql":
            return f"SELECT generate_series(1, {count}) AS n"
        return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s"

    def day(self, days: str) -> str:
        """The date ``days`` after DAY_ZERO."""
        if self.name == "postgresql":
            return f"(DATE '{DAY_ZERO}' + CAST({days} AS INTEGER))"
        return f"date('{DAY_ZERO}', ({days}) || ' days')"

    def moment(self, days: str) -> str:
        """08:00 UTC on the day ``days`` after DAY_ZERO, as the app stores timestamps."""
        if self.name == "postgresql":
            return f"(TIMESTAMPTZ '{DAY_ZERO} 08:00:00+00' + make_interval(days => CAST({days} AS INTEGER)))"
        return f"(datetime('{DAY_ZERO} 08:00:00', ({days}) || ' days') || '.000000')"

    def day_before(self, date: str) -> str:
        return f"({date} - 1)" if self.name == "postgresql" else f"date({date}, '-1 day')"

    def date_of(self, column: str) -> str:
        return f"CAST({column} AS DATE)" if self.name == "postgresql" else f"date({column})"

    def json(self, sql: str) -> str:
        return f"CAST({sql} AS json)" if self.name == "postgresql" else sql


# --- loading -----------------------------------------------------------------------------------


def owner_sql(mine: int, total: int) -> str:
    """The owner of row ``n`` of ``total``: exactly ``mine`` rows, spread evenly, are the
    departed user's; the others belong to the other users in turn."""
    if total == mine:
        return str(DEPARTED)
    return (
        f"CASE WHEN CAST(n AS BIGINT) * {mine} / {total} > (CAST(n AS BIGINT) - 1) * {mine} / {total} "
        f"THEN {DEPARTED} ELSE {FIRST_OTHER} + n % {OTHER_USERS} END"
    )


def load(db, sql: Dialect, items: int, others: int) -> dict[str, int]:
    """Users, records, ownership periods and audit entries; returns the departed user's
    items per type (``deputy`` included)."""
    from opiekun.models import Pipeline, PipelineStage, User, utcnow

    users = [
        User(id=ADMIN, email="ada@bench.example", name="Ada Admin", role="admin", status="active"),
        User(
            id=DEPARTED,
            email="stefan@bench.example",
            name="Stefan Odchodzący",
            role="user",
            status="departed",
            departed_at=utcnow(),
        ),
        User(id=RECIPIENT, email="ewa@bench.example", name="Ewa Następczyni", role="user", status="active"),
    ]
    users += [
        User(id=FIRST_OTHER + n, email=f"u{n}@bench.example", name=f"User {n}", role="user", status="active")
        for n in range(OTHER_USERS)
    ]
    db.session.add_all(users)
    db.session.add(
        Pipeline(
            name="Sprzedaż",
            stages=[
                PipelineStage(name=name, position=position, probability=10 * position)
                for position, name in enumerate(("Kontakt", "Oferta", "Negocjacje"))
            ],
        )
    )
    db.session.commit()
    if sql.name == "postgresql":  # the serials restart after the explicit user ids
        db.session.execute(text("SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
    pipeline = db.session.scalar(text("SELECT min(id) FROM pipelines"))
    stage = db.session.scalar(text("SELECT min(id) FROM pipeline_stages"))
    task_types = db.session.scalars(text("SELECT id FROM task_types ORDER BY id")).all()

    mine, deputies = split(items)
    theirs, _ = split(others)
    total = {name: mine[name] + theirs[name] for name in mine}
    days = "n % 600"
    stamps = f"{ADMIN}, {sql.moment(days)}, {sql.moment(days)}"  # created_by_id, created_at, updated_at

    def insert_records(table: str, columns: str, values: str) -> None:
        kind = next(kind for kind in KINDS if kind.table == table)
        object_type = kind.object_type
        db.session.execute(
            text(
                f"INSERT INTO {table} ({columns}, {kind.owner}, created_by_id, created_at, updated_at) SELECT {values}, "
                f"{owner_sql(mine[object_type], total[object_type])}, {stamps} "
                f"FROM ({sql.series(total[object_type])}) AS s"
            )
        )

    companies, deals = total["company"], total["deal"]
    insert_records("companies", "name, city", "'Firma ' || n, 'Kraków'")
    insert_records(
        "persons",
        "first_name, last_name, email, company_id",
        f"'Jan', 'Kowalski ' || n, 'jan' || n || '@example.pl', 1 + n % {companies}",
    )
    insert_records(
        "leads",
        "name, status, source",
        "'Zapytanie ' || n, CASE n % 10 WHEN 0 THEN 'qualified' WHEN 1 THEN 'disqualified' WHEN 2 THEN 'contacted' "
        "ELSE 'new' END, 'targi'",
    )
    insert_records(
        "deals",
        "name, company_id, pipeline_id, stage_id, value, currency, status, close_date",
        f"'Szansa ' || n, 1 + n % {companies}, {pipeline}, {stage} + n % 3, n % 10000, 'PLN', "
        f"CASE n % 6 WHEN 0 THEN 'won' WHEN 1 THEN 'lost' ELSE 'open' END, "
        f"CASE WHEN n % 6 < 2 THEN {sql.day('n % 600 + 30')} END",
    )
    insert_records(
        "offers",
        "name, deal_id, company_id, status, value",
        f"'Oferta ' || n || '/2025', 1 + n % {deals}, 1 + n % {companies}, "
        f"CASE n % 5 WHEN 0 THEN 'accepted' WHEN 1 THEN 'rejected' WHEN 2 THEN 'sent' ELSE 'draft' END, n % 5000",
    )
    insert_records(
        "invoices",
        "number, deal_id, company_id, status, amount, issue_date",
        f"'FV/' || n || '/2025', 1 + n % {deals}, 1 + n % {companies}, "
        f"CASE n % 5 WHEN 3 THEN 'issued' WHEN 4 THEN 'cancelled' ELSE 'paid' END, n % 5000, {sql.day(days)}",
    )
    insert_records(
        "tasks",
        "title, type_id, object_type, object_id, due_date, priority, private, reminders, done, done_at",
        f"'Zadzwonić ' || n, {task_types[0]} + n % {len(task_types)}, 'company', 1 + n % {companies}, "
        f"{sql.day('n % 600 + 7')}, 'normal', n % 20 = 0, {sql.json(repr('[]'))}, n % 2 = 0, "
        f"CASE WHEN n % 2 = 0 THEN {sql.moment('n % 600 + 7')} END",
    )

    periods = (
        "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, "
        "access, created_by_id, created_at) "
    )
    changes = json.dumps(
        [{"field": "name", "field_label": "Name", "old": None, "new": "…", "old_label": None, "new_label": None}]
    )
    for kind in KINDS:
        # the primary period in force since the record was made; every 5th had an earlier owner
        db.session.execute(
            text(
                periods
                + f"SELECT '{kind.object_type}', id, {kind.owner}, 'primary', 'sales', {sql.date_of('created_at')}, NULL, "
                f"'write', {ADMIN}, created_at FROM {kind.table}"
            )
        )
        db.session.execute(
            text(
                periods
                + f"SELECT '{kind.object_type}', id, {FIRST_OTHER} + (id * 7) % {OTHER_USERS}, 'primary', 'sales', "
                f"{sql.day('-365')}, {sql.day_before(sql.date_of('created_at'))}, 'write', {ADMIN}, created_at "
                f"FROM {kind.table} WHERE id % 5 = 0"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO audit_entries (at, user_id, user_name, job, object_type, object_id, object_name, object_url, "
                "operation, changes, context, hash) "
                f"SELECT created_at, {ADMIN}, 'Ada Admin', NULL, '{kind.object_type}', id, {kind.name_sql}, "
                f"'/admin/{kind.object_type}/details/?id=' || id, 'create', {sql.json(':changes')}, NULL, '{FAKE_HASH}' "
                f"FROM {kind.table}"
            ),
            {"changes": changes},
        )
    # the departed user stands in for colleagues on some of their companies, and a colleague
    # stands in for them on every 20th of theirs (that deputyship stays)
    available = db.session.scalar(text(f"SELECT count(*) FROM companies WHERE owner_id <> {DEPARTED}"))
    if available < deputies:
        raise SystemExit(f"--others is too small: {deputies:,} deputy periods need as many companies of other users")
    db.session.execute(
        text(
            periods + f"SELECT 'company', id, {DEPARTED}, 'deputy', 'sales', {sql.date_of('created_at')}, NULL, "
            f"CASE WHEN id % 2 = 0 THEN 'write' ELSE 'read' END, {ADMIN}, created_at "
            f"FROM companies WHERE owner_id <> {DEPARTED} ORDER BY id LIMIT {deputies}"
        )
    )
    db.session.execute(
        text(
            periods
            + f"SELECT 'company', id, {FIRST_OTHER}, 'deputy', 'service', {sql.date_of('created_at')}, NULL, 'read', "
            f"{ADMIN}, created_at FROM companies WHERE owner_id = {DEPARTED} AND id % 20 = 0"
        )
    )
    db.session.execute(text(f"INSERT INTO audit_chain (id, last_hash, settings_version) VALUES (1, '{FAKE_HASH}', 0)"))
    db.session.commit()
    return {**mine, "deputy": deputies}


def analyze(db) -> None:
    """What autovacuum would have done to a database in use: statistics and visibility
    map (PostgreSQL); the prewarm extension for :meth:`Snapshots.restore`."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        connection.execute(text("VACUUM ANALYZE"))


def count(db, sql: str, **params) -> int:
    return db.session.scalar(text(sql), params)


def owned_by(db, user_id: int) -> int:
    """Records of every mixed type the user owns, and their deputy periods in force."""
    records = sum(
        count(db, f"SELECT count(*) FROM {kind.table} WHERE {kind.owner} = :user", user=user_id) for kind in KINDS
    )
    return records + count(
        db,
        "SELECT count(*) FROM ownership_assignments WHERE user_id = :user AND kind = 'deputy' AND valid_to IS NULL",
        user=user_id,
    )


# --- the measurements --------------------------------------------------------------------------


def job_actor():
    from opiekun.changes import Actor

    return Actor(user_id=ADMIN, user_name="Ada Admin", job="offboarding.transfer")


def run_transfer_once(db) -> dict[str, float]:
    """The API's planning (``create_transfer``), then the job as rq runs it, in-process."""
    from opiekun.jobs import run_job
    from opiekun.models import User
    from opiekun.plugins.offboarding import planning as services
    from opiekun.plugins.offboarding.transfers import TRANSFER_JOB as TRANSFER

    started = time.perf_counter()
    transfer = services.create_transfer(
        services.TransferPlan(from_user_id=DEPARTED, to_user_id=RECIPIENT), db.session.get(User, ADMIN)
    )
    transfer_id, total = transfer.id, transfer.total
    db.session.commit()
    planned = time.perf_counter()
    result = run_job(TRANSFER, {"transfer_id": transfer_id}, user_id=ADMIN, user_name="Ada Admin")
    finished = time.perf_counter()
    return {"seconds": finished - started, "plan_seconds": planned - started, "total": total, "moved": result["moved"]}


def check_transfer(db, items: int, run: dict[str, float]) -> dict[str, float]:
    """Everything moved; adds what the transfer wrote."""
    assert run["total"] == items and run["moved"] == items, run
    assert owned_by(db, DEPARTED) == 0
    entries = count(db, "SELECT count(*) FROM audit_entries WHERE operation = 'update'")
    moves = count(db, "SELECT count(*) FROM offboarding_moved_items")
    db.session.commit()
    return {**run, "audit_entries": entries, "moved_items": moves}


def measure_transfer(db, items: int) -> dict[str, float]:
    return check_transfer(db, items, run_transfer_once(db))


def floor_statements(sql: Dialect, full: bool) -> list[str]:
    """The floor's statements, in order; ``full`` adds the periods and the moved items."""
    audit = (
        "INSERT INTO audit_entries (at, user_id, user_name, job, object_type, object_id, object_name, object_url, "
        "operation, changes, context) SELECT :now, :actor, :actor_name, :job, '{type}', id, {name}, "
        "'/admin/{type}/details/?id=' || id, 'update', "
        + sql.json(":changes")
        + ", "
        + sql.json(":context")
        + " FROM {table} WHERE {owner} = :from_user"
    )
    move = "UPDATE {table} SET {owner} = :to_user, updated_at = :now WHERE {owner} = :from_user"
    end_periods = (
        "UPDATE ownership_assignments SET valid_to = :yesterday WHERE object_type = '{type}' AND kind = 'primary' "
        "AND valid_to IS NULL AND object_id IN (SELECT id FROM {table} WHERE {owner} = :from_user)"
    )
    new_periods = (
        "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, "
        "access, created_by_id, created_at) SELECT '{type}', id, :to_user, 'primary', 'sales', :today, NULL, "
        "'write', :actor, :now FROM {table} WHERE {owner} = :from_user"
    )
    moved_items = (
        "INSERT INTO offboarding_moved_items (transfer_id, object_type, object_id, field, object_name, "
        "old_value, new_value, moved_at) SELECT :transfer, '{type}', id, 'owner_id', {name}, :from_user, "
        ":to_user, :now FROM {table} WHERE {owner} = :from_user"
    )
    per_table = [end_periods, new_periods, moved_items, audit, move] if full else [audit, move]
    statements = [
        template.format(type=kind.object_type, table=kind.table, name=kind.name_sql, owner=kind.owner)
        for kind in KINDS
        for template in per_table
    ]
    deputies = "user_id = :from_user AND kind = 'deputy' AND valid_to IS NULL"
    if full:
        statements += [
            (
                "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, valid_to, access, "
                "created_by_id, created_at) SELECT object_type, object_id, :to_user, kind, role, :today, NULL, access, "
                f"created_by_id, :now FROM ownership_assignments WHERE {deputies}"
            ),
            f"UPDATE ownership_assignments SET valid_to = :yesterday WHERE {deputies} AND valid_from < :today",
        ]
    else:
        statements.append(f"UPDATE ownership_assignments SET user_id = :to_user WHERE {deputies}")
    return statements


def measure_floor(db, sql: Dialect, full: bool) -> dict[str, float]:
    from opiekun.models import UTCDateTime, utcnow

    transfer_id = new_transfer_row(db) if full else 1
    now = utcnow()
    today = now.date()
    changes = json.dumps(
        [
            {
                "field": "owner_id",
                "field_label": "Owner",
                "old": DEPARTED,
                "new": RECIPIENT,
                "old_label": "Stefan Odchodzący",
                "new_label": "Ewa Następczyni",
            }
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )  # as the plugin's json_build_object writes it
    params = {
        "now": now,
        "actor": ADMIN,
        "actor_name": "Ada Admin",
        "job": "offboarding.transfer",
        "changes": changes,
        "context": json.dumps({"offboarding_transfer_id": transfer_id}),
        "from_user": DEPARTED,
        "to_user": RECIPIENT,
        "transfer": transfer_id,
        "today": today,
        "yesterday": today - dt.timedelta(days=1),
    }
    types = {"now": UTCDateTime(), "today": Date(), "yesterday": Date()}
    statements = [
        text(statement).bindparams(
            *(bindparam(name, type_=kind) for name, kind in types.items() if f":{name}" in statement)
        )
        for statement in floor_statements(sql, full)
    ]
    started = time.perf_counter()
    for statement in statements:
        db.session.execute(statement, params)
    db.session.commit()
    seconds = time.perf_counter() - started
    assert owned_by(db, DEPARTED) == 0
    db.session.commit()
    return {"seconds": seconds}


def new_transfer_row(db) -> int:
    """A finished transfer for the moved items (and the loop's change context) to point at."""
    from opiekun.plugins.offboarding.models import Transfer

    transfer = Transfer(
        from_user_id=DEPARTED, requested_by_id=ADMIN, status="done", object_types=[], options={}, total=0
    )
    db.session.add(transfer)
    db.session.commit()
    return transfer.id


def loop_sample(db, mix: dict[str, int], items: int, sample: int) -> list[tuple[str, list[int]]]:
    """Ids of the departed user's items, each type in its share of ``sample``."""
    chosen = []
    for kind in KINDS:
        take = max(1, round(sample * mix[kind.object_type] / items))
        chosen.append(
            (
                kind.object_type,
                db.session.scalars(
                    text(f"SELECT id FROM {kind.table} WHERE {kind.owner} = :user ORDER BY id LIMIT {take}"),
                    {"user": DEPARTED},
                ).all(),
            )
        )
    take = max(1, round(sample * mix["deputy"] / items))
    chosen.append(
        (
            "deputy",
            db.session.scalars(
                text(
                    f"SELECT id FROM ownership_assignments WHERE user_id = :user AND kind = 'deputy' ORDER BY id LIMIT {take}"
                ),
                {"user": DEPARTED},
            ).all(),
        )
    )
    return chosen


def measure_loop(db, mix: dict[str, int], items: int, sample: int) -> dict[str, float]:
    """Per item: load the ORM object, set the owner, flush (every hook fires per object)."""
    from opiekun.changes import acting_as, change_context
    from opiekun.models import utcnow
    from opiekun.plugins.offboarding.transfers import TRANSFER_CONTEXT
    from opiekun.plugins.ownership.models import OwnerAssignment
    from opiekun.record_registry import record_types

    transfer_id = new_transfer_row(db)
    chosen = loop_sample(db, mix, items, sample)
    db.session.commit()
    today = utcnow().date()
    started = time.perf_counter()
    with acting_as(job_actor()), change_context(**{TRANSFER_CONTEXT: transfer_id}):
        for object_type, ids in chosen:
            for object_id in ids:
                if object_type == "deputy":
                    period = db.session.get(OwnerAssignment, object_id)
                    db.session.add(
                        OwnerAssignment(
                            object_type=period.object_type,
                            object_id=period.object_id,
                            user_id=RECIPIENT,
                            kind="deputy",
                            role=period.role,
                            valid_from=today,
                            valid_to=period.valid_to,
                            access=period.access,
                        )
                    )
                    period.valid_to = today - dt.timedelta(days=1)
                else:
                    record = db.session.get(record_types().get(object_type).model, object_id)
                    record.owner_id = RECIPIENT
                db.session.flush()
        db.session.commit()
    seconds = time.perf_counter() - started
    done = sum(len(ids) for _, ids in chosen)
    assert owned_by(db, DEPARTED) == items - done
    db.session.commit()
    return {"seconds": seconds, "sample": done, "extrapolated": seconds * items / done}


# --- profile -----------------------------------------------------------------------------------


class HookClock:
    """Wall time of every hook implementation (nested hooks subtracted from their caller)
    and the SQL it ran, by kind of statement."""

    OUTSIDE = "offboarding engine (preview, plan, steps, commits)"

    def __init__(self):
        self.stack = [[self.OUTSIDE, 0.0]]
        self.wall = defaultdict(float)
        self.calls = defaultdict(int)
        self.sql = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))

    def wrap(self, name: str, function):
        def timed(*args, **kwargs):
            self.stack.append([name, 0.0])
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                _, nested = self.stack.pop()
                self.wall[name] += elapsed - nested
                self.calls[name] += 1
                self.stack[-1][1] += elapsed

        return timed

    @contextmanager
    def hooks(self, manager, hook_names: tuple[str, ...]):
        saved = []
        for hook_name in hook_names:
            for implementation in getattr(manager.hook, hook_name).get_hookimpls():
                saved.append((implementation, implementation.function))
                label = (
                    f"{implementation.plugin_name.removeprefix('core:opiekun.')}: {hook_name.removeprefix('opiekun_')}"
                )
                implementation.function = self.wrap(label, implementation.function)
        try:
            yield
        finally:
            for implementation, function in saved:
                implementation.function = function

    @contextmanager
    def statements(self, engine):
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

        def after(conn, cursor, statement, parameters, context, executemany):
            elapsed = time.perf_counter() - conn.info["bench_started"].pop()
            entry = self.sql[self.stack[-1][0]][statement_kind(statement)]
            entry[0] += 1
            entry[1] += elapsed

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)

    def report(self, total: float) -> None:
        self.wall[self.OUTSIDE] = total - sum(seconds for name, seconds in self.wall.items() if name != self.OUTSIDE)
        print(
            f"\n    where the transfer's {total * 1000:,.0f} ms go (wall time of each hook implementation, hooks it "
            f"calls not included; SQL = time in the driver):"
        )
        for name, seconds in sorted(self.wall.items(), key=lambda item: -item[1]):
            kinds = self.sql.get(name, {})
            in_sql = sum(entry[1] for entry in kinds.values())
            calls = f"{self.calls[name]} calls" if name in self.calls else ""
            print(
                f"    {name:58} {seconds * 1000:8,.0f} ms {100 * seconds / total:5.1f} %  (SQL {in_sql * 1000:7,.0f} ms, "
                f"Python {(seconds - in_sql) * 1000:7,.0f} ms) {calls}"
            )
            for kind, (number, spent) in sorted(kinds.items(), key=lambda item: -item[1][1])[:8]:
                if spent >= 0.01 * seconds:
                    print(f"        {number:5} × {kind:62} {spent * 1000:8,.0f} ms")


def statement_kind(statement: str) -> str:
    """``INSERT INTO audit_entries``, ``UPDATE audit_entries SET hash``, ``SELECT FROM
    companies``…; temporary tables' numbers replaced by ``*``."""
    flat = re.sub(r"(opiekun_change_batch|ownership_batch)_\d+", r"\1_*", " ".join(statement.split()))
    prefix = ""
    if flat.upper().startswith("WITH "):  # a data-modifying CTE: name the main statement
        main = re.search(r"\)\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT)\b", flat, re.IGNORECASE)
        prefix, flat = ("WITH … ", flat[main.start(1) :]) if main else ("", flat)
    match = re.match(
        r"(INSERT INTO|UPDATE|DELETE FROM|CREATE TEMPORARY TABLE|DROP TABLE) ([\w*]+)( SET \w+)?", flat, re.IGNORECASE
    )
    if match:
        return prefix + f"{match.group(1)} {match.group(2)}{match.group(3) or ''}"
    match = re.match(r"SELECT .*? FROM \(?([\w*]+)", flat, re.IGNORECASE)
    if match:
        return prefix + f"SELECT FROM {match.group(1)}" + (" FOR UPDATE" if flat.upper().endswith("FOR UPDATE") else "")
    return prefix + flat[:60]


def profile_transfer(db, app, snapshots: Snapshots, items: int) -> None:
    """Two more transfers from the same state: one with every hook implementation and
    statement timed, one under pyinstrument (whose sampling slows it down)."""
    clock = HookClock()
    manager = app.extensions["opiekun.plugins"].manager
    snapshots.restore(db)
    with (
        clock.hooks(manager, ("opiekun_records_changed", "opiekun_transfer_user_items", "opiekun_user_items")),
        clock.statements(db.engine),
    ):
        run = run_transfer_once(db)
    check_transfer(db, items, run)
    clock.report(run["seconds"])
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("    (pyinstrument is not installed: no call profile)")
        return
    snapshots.restore(db)
    profiler = Profiler(interval=0.001)
    profiler.start()
    run = run_transfer_once(db)
    profiler.stop()
    check_transfer(db, items, run)
    target = Path(tempfile.gettempdir()) / f"offboarding-profile-{db.engine.dialect.name}.txt"
    target.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"    call profile (pyinstrument, {run['seconds'] * 1000:,.0f} ms with sampling): {target}")


# --- main --------------------------------------------------------------------------------------


def summary(runs: list[float]) -> str:
    best, middle, worst = min(runs), statistics.median(runs), max(runs)
    return f"{best * 1000:8,.0f} / {middle * 1000:8,.0f} / {worst * 1000:8,.0f} ms  (spread {100 * (worst - best) / best:4.1f} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--url", default=os.environ.get("OPIEKUN_BENCH_DATABASE_URL") or os.environ.get("OPIEKUN_TEST_DATABASE_URL")
    )
    parser.add_argument("--items", type=int, default=100_000, help="the departed user's items (default 100,000)")
    parser.add_argument("--others", type=int, default=100_000, help="items of 50 other users (default 100,000)")
    parser.add_argument("--loop-sample", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="time every hook of one more transfer; pyinstrument profile"
    )
    args = parser.parse_args()
    if args.database == "postgresql" and not args.url:
        parser.error("give --url (a PostgreSQL maintenance database on this machine)")
    for name in ("items", "others", "loop_sample"):
        if not 100 <= getattr(args, name) <= 2_000_000:
            parser.error(f"--{name.replace('_', '-')} must be between 100 and 2,000,000")
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat must be between 1 and 20")
    import logging

    logging.disable(logging.INFO)
    from opiekun.app import create_app
    from opiekun.config import Settings
    from opiekun.extensions import db
    from opiekun.migration_runner import upgrade_schema

    folder = Path(tempfile.mkdtemp(prefix="opiekun-bench-offboarding-"))
    snapshots = Snapshots(args.database, args.url, folder)
    try:
        app = create_app(
            Settings(
                instance_path=folder,
                database_url=snapshots.url,
                redis_url=None,
                plugins=PLUGINS,
                secret_key="bench-secret-key-of-at-least-32-bytes",
            )
        )
        with app.app_context():
            upgrade_schema()
            sql = Dialect(db.engine.dialect.name)
            loading = time.perf_counter()
            mix = load(db, sql, args.items, args.others)
            analyze(db)
            periods = count(db, "SELECT count(*) FROM ownership_assignments")
            entries = count(db, "SELECT count(*) FROM audit_entries")
            from opiekun.plugins.offboarding import preview as services

            previewed = services.preview(DEPARTED).total
            assert previewed == args.items, (previewed, mix)
            version = (
                count(db, "SHOW server_version") if sql.name == "postgresql" else count(db, "SELECT sqlite_version()")
            )
            snapshots.save(db)
            print(
                f"offboarding benchmark on {sql.name} {version}, {os.cpu_count()} CPUs; loaded in "
                f"{time.perf_counter() - loading:.1f} s:"
            )
            print(
                f"    departed user with {args.items:,} items: "
                + ", ".join(f"{name} {number:,}" for name, number in mix.items())
            )
            print(
                f"    + {args.others:,} items of {OTHER_USERS} other users; {periods:,} ownership periods; "
                f"{entries:,} audit entries"
            )
            print(
                "    every measurement starts from a copy of this state"
                + (" (CREATE DATABASE … TEMPLATE, then pg_prewarm)" if sql.name == "postgresql" else " (file copy)")
            )

            runs = defaultdict(list)
            details = {}
            for _ in range(args.repeat):
                snapshots.restore(db)
                details["transfer"] = measure_transfer(db, args.items)
                runs["transfer"].append(details["transfer"]["seconds"])
                runs["plan"].append(details["transfer"]["plan_seconds"])
                snapshots.restore(db)
                runs["floor"].append(measure_floor(db, sql, full=False)["seconds"])
                snapshots.restore(db)
                runs["full floor"].append(measure_floor(db, sql, full=True)["seconds"])
                if not args.skip_loop:
                    snapshots.restore(db)
                    details["loop"] = measure_loop(db, mix, args.items, args.loop_sample)
                    runs["loop"].append(details["loop"]["extrapolated"])

            best = {name: min(values) for name, values in runs.items()}

            def rate(seconds):
                return f"{args.items / seconds:9,.0f} items/s"

            print(
                f"\n(1) transfer of {args.items:,} mixed items to one user, audit + ownership + tasks + offboarding on; "
                f"{args.repeat} run(s) each: best / median / worst"
            )
            print(
                f"    offboarding transfer (create_transfer + run_transfer, in-process): {summary(runs['transfer'])}  "
                f"{rate(best['transfer'])}"
            )
            print(f"        of which planning (create_transfer: preview + steps):          {summary(runs['plan'])}")
            print(
                f"        wrote {details['transfer']['audit_entries']:,} audit entries, "
                f"{details['transfer']['moved_items']:,} moved items"
            )
            print(
                f"    raw-SQL floor (per table UPDATE + audit INSERT … SELECT, 1 tx):    {summary(runs['floor'])}  "
                f"{rate(best['floor'])}"
            )
            print(
                f"    full-write floor (+ ownership periods, moved items, 1 tx):         {summary(runs['full floor'])}  "
                f"{rate(best['full floor'])}"
            )
            if not args.skip_loop:
                loop = details["loop"]
                print(
                    f"    naive ORM loop: {loop['sample']:,} items took {loop['seconds'] * 1000:,.0f} ms, extrapolated "
                    f"linearly to {args.items:,}: {summary(runs['loop'])}  {rate(best['loop'])}"
                )
            ratio = best["transfer"] / best["floor"]
            print(
                f"    ratio transfer / floor (best):            {ratio:6.2f}x   (median {statistics.median(runs['transfer']) / statistics.median(runs['floor']):.2f}x)"
                f"   goal <= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'MISSED'}"
            )
            print(f"    ratio transfer / full-write floor (best): {best['transfer'] / best['full floor']:6.2f}x")
            if not args.skip_loop:
                speedup = best["loop"] / best["transfer"]
                print(
                    f"    speed-up over the naive loop (best):      {speedup:6.1f}x   goal >= 20x: "
                    f"{'met' if speedup >= 20 else 'MISSED'}"
                )
            if args.profile:
                profile_transfer(db, app, snapshots, args.items)
            release(db)
    finally:
        snapshots.drop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
