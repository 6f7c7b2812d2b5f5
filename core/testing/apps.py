"""Apps for tests: settings, a database of their own, the schema through the migrations,
and emptying tables between tests.

Choose the database with ``OPIEKUN_TEST_DATABASE_URL`` (unset: a SQLite file in a temp
folder). ``OPIEKUN_TEST_REDIS_URL`` points the job tests at a real Redis.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from sqlalchemy import Table, create_engine, text
from sqlalchemy.exc import OperationalError

from opiekun.app import create_app
from opiekun.config import Settings
from opiekun.extensions import db

TEST_DATABASE_URL = os.environ.get("OPIEKUN_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("OPIEKUN_TEST_REDIS_URL")
PASSWORD = "correct-horse-9"
#: The tests' secret key (a key needs at least 32 bytes).
SECRET_KEY = "test-secret-key-of-at-least-32-bytes"
#: PostgreSQL's error code for a deadlock it broke by ending one transaction
DEADLOCK_DETECTED = "40P01"


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


#: The suite logs in (and fails to, on purpose) far more often than a person: its apps
#: allow that many failed logins a minute; tests/acceptance/test_login_security.py checks
#: the throttle itself with real limits.
GENEROUS_LOGIN_LIMIT = "10000 per minute"


#: one PBKDF2 round: a password check costs microseconds instead of scrypt's 0.1 s, which
#: was most of the suite's time. Tests of hashing itself build apps with scrypt.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"


def make_settings(
    instance_path: Path,
    *,
    plugins: tuple[str, ...] | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    **other_settings,
) -> Settings:
    url = database_url or f"sqlite:///{instance_path / 'opiekun.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    other_settings.setdefault("login_limit_per_account", GENEROUS_LOGIN_LIMIT)
    other_settings.setdefault("login_limit_per_address", GENEROUS_LOGIN_LIMIT)
    other_settings.setdefault("password_hash_method", CHEAP_PASSWORD_HASH)
    return Settings(
        instance_path=instance_path,
        database_url=url,
        redis_url=redis_url,
        plugins=plugins,
        secret_key=SECRET_KEY,
        trace_hooks=False,
        **other_settings,
    )


class FreshDatabase:
    """A database of its own for one app (a SQLite file, or a new PostgreSQL database)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.created: list[str] = []

    def url(self) -> str:
        if not on_postgres():
            return f"sqlite:///{self.folder / f'{uuid.uuid4().hex}.db'}"
        name = f"opiekun_test_{uuid.uuid4().hex[:12]}"
        admin_engine = create_engine(_psycopg(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin_engine.dispose()
        self.created.append(name)
        return TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        admin_engine = create_engine(_psycopg(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def build_app(instance_path: Path, database_url: str, extra_plugins=(), **settings):
    """An app of its own (own database), e.g. with other plugins; schema via migrations,
    then the plugins that are on noted, as ``opiekun init`` does."""
    from opiekun.migration_runner import upgrade_schema
    from opiekun.plugin_activity import note_plugin_activity

    app = create_app(make_settings(instance_path, database_url=database_url, **settings), extra_plugins=extra_plugins)
    app.config["TESTING"] = True
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        upgrade_schema()
        note_plugin_activity()
        app.extensions["opiekun.testing.seeded_rows"] = seeded_rows()
    return app


def app_tables() -> list[Table]:
    """The tables of the current app's database, parents before children. The metadata of
    the process may hold more: models of test plugins another app enabled."""
    existing = set(db.inspect(db.engine).get_table_names())
    return [table for table in db.metadata.sorted_tables if table.name in existing]


def seeded_rows() -> dict[str, list[dict]]:
    """The rows the migrations and ``opiekun init`` wrote (the default task types and
    statuses…), by table: what :func:`empty_tables` puts back."""
    with db.engine.connect() as connection:
        rows = {
            table.name: [dict(row) for row in connection.execute(table.select()).mappings()] for table in app_tables()
        }
    return {name: table_rows for name, table_rows in rows.items() if table_rows}


def close_app(application) -> None:
    """Let go of ``application``'s database connections (before another process — an
    ``opiekun`` command, another app — works on the same database, or when a test ends)."""
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_tables(application, attempts: int = 5) -> None:
    """Every table back to what the migrations left: emptied, then the rows they seeded
    (:func:`seeded_rows`) put back, so that a test finds what a new deployment has.

    On PostgreSQL, a job still running in the app's worker thread may hold a lock that
    ``TRUNCATE`` needs while waiting for one it holds; the database then ends one of the
    two (a deadlock), and emptying is tried again, up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            _empty_tables(application)
            return
        except OperationalError as error:
            if attempt == attempts or getattr(error.orig, "sqlstate", None) != DEADLOCK_DETECTED:
                raise
            time.sleep(0.1 * attempt)


def _empty_tables(application) -> None:
    with application.app_context():
        db.session.remove()
        tables = app_tables()
        names = [table.name for table in reversed(tables)]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            else:
                for name in names:
                    connection.execute(text(f'DELETE FROM "{name}"'))
                if "sqlite_sequence" in {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))}:
                    connection.execute(text("DELETE FROM sqlite_sequence"))
            _put_back(connection, tables, application.extensions.get("opiekun.testing.seeded_rows", {}))


def _put_back(connection, tables: list[Table], seeded: dict[str, list[dict]]) -> None:
    """Insert the seeded rows again; on PostgreSQL, the id sequences continue after them."""
    for table in tables:
        if table.name not in seeded:
            continue
        connection.execute(table.insert(), seeded[table.name])
        if connection.dialect.name == "postgresql" and "id" in table.c:
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")
            )


def schema_differences(application, models=()) -> list:
    """What the migrations made that the models do not declare, or the reverse (Alembic's
    ``compare_metadata``), for the tables of ``models`` (all tables when none are given):
    ``[]`` when a plugin's migration creates exactly what its models say. The search
    indexes (``create_search_indexes``) are left out: migrations create them, models cannot
    declare them."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from opiekun.search import not_a_search_index

    tables = {model.__table__.name for model in models}

    def compared(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        ours = not tables or table is None or table.name in tables
        return ours and not_a_search_index(obj, name, type_, reflected, compare_to)

    with application.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": compared})
        return compare_metadata(context, db.metadata)
