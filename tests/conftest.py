"""Shared fixtures: an app on SQLite (default) or PostgreSQL, a clean database per test,
and an HTTP client that speaks the API as an integration would.

Choose the database with ``OPIEKUN_TEST_DATABASE_URL`` (unset: a SQLite file in a temp
folder). ``OPIEKUN_TEST_REDIS_URL`` points the job tests at a real Redis.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from opiekun.app import create_app
from opiekun.config import Settings
from opiekun.extensions import db
from opiekun.models import User

TEST_DATABASE_URL = os.environ.get("OPIEKUN_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("OPIEKUN_TEST_REDIS_URL")
PASSWORD = "correct-horse-9"
#: The tests' secret key (a key needs at least 32 bytes).
SECRET_KEY = "test-secret-key-of-at-least-32-bytes"


def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))


#: The suite logs in (and fails to, on purpose) far more often than a person: its apps
#: allow that many failed logins a minute; tests/acceptance/test_login_security.py checks
#: the throttle itself with real limits.
GENEROUS_LOGIN_LIMIT = "10000 per minute"


#: one PBKDF2 round: a password check costs microseconds instead of scrypt's 0.1 s, which
#: was most of the suite's time. Tests of hashing itself build apps with scrypt.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"


def make_settings(instance_path: Path, *, plugins: tuple[str, ...] | None = None, database_url: str | None = None,
                  redis_url: str | None = None, **other_settings) -> Settings:
    url = database_url or f"sqlite:///{instance_path / 'opiekun.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    other_settings.setdefault("login_limit_per_account", GENEROUS_LOGIN_LIMIT)
    other_settings.setdefault("login_limit_per_address", GENEROUS_LOGIN_LIMIT)
    other_settings.setdefault("password_hash_method", CHEAP_PASSWORD_HASH)
    return Settings(instance_path=instance_path, database_url=url, redis_url=redis_url, plugins=plugins,
                    secret_key=SECRET_KEY, trace_hooks=False, **other_settings)


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


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory) -> Iterator[FreshDatabase]:
    databases = FreshDatabase(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


def build_app(instance_path: Path, database_url: str, extra_plugins=(), **settings):
    """An app of its own (own database), e.g. with other plugins; schema via migrations."""
    from opiekun.migration_runner import upgrade_schema

    app = create_app(make_settings(instance_path, database_url=database_url, **settings), extra_plugins=extra_plugins)
    app.config["TESTING"] = True
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        upgrade_schema()
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory, fresh_database):
    """The app with every installed plugin, its schema created through the migrations."""
    instance = tmp_path_factory.mktemp("instance")
    application = build_app(instance, fresh_database.url())
    yield application
    with application.app_context():
        db.engine.dispose()


def empty_tables(application) -> None:
    with application.app_context():
        db.session.remove()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]
        existing = set(db.inspect(db.engine).get_table_names())
        tables = [name for name in tables if name in existing]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    connection.execute(text(f'DELETE FROM "{name}"'))
                if "sqlite_sequence" in {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master"))}:
                    connection.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(autouse=True)
def clean_database(request):
    """Every test starts from empty tables (only when it uses the shared app)."""
    yield
    if "app" in request.fixturenames:
        empty_tables(request.getfixturevalue("app"))


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


class ApiClient:
    """Speaks the JSON API as an integration does: bearer tokens, JSON bodies."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.tokens: dict[int, str] = {}

    def create_user(self, email: str, role: str = "user", name: str | None = None, password: str = PASSWORD) -> dict:
        with self.app.app_context():
            user = User(email=email, name=name or email.split("@")[0].replace(".", " ").title(), role=role, status="active")
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}

    def token_for(self, user: dict, password: str = PASSWORD) -> str:
        response = self.http.post("/api/v1/auth/token", json={"email": user["email"], "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    def headers(self, user: dict | None) -> dict:
        if user is None:
            return {}
        if user["id"] not in self.tokens:
            self.tokens[user["id"]] = self.token_for(user)
        return {"Authorization": f"Bearer {self.tokens[user['id']]}"}

    def request(self, method: str, path: str, as_user: dict | None, **kwargs):
        headers = {**self.headers(as_user), **kwargs.pop("headers", {})}
        return self.http.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, as_user, **kwargs):
        return self.request("GET", path, as_user, **kwargs)

    def post(self, path, as_user, json=None, **kwargs):
        return self.request("POST", path, as_user, json=json, **kwargs)

    def patch(self, path, as_user, json=None, **kwargs):
        return self.request("PATCH", path, as_user, json=json, **kwargs)

    def delete(self, path, as_user, **kwargs):
        return self.request("DELETE", path, as_user, **kwargs)


@pytest.fixture
def api(app) -> ApiClient:
    return ApiClient(app)


@pytest.fixture
def admin(api) -> dict:
    return api.create_user("admin@firma.example", role="admin", name="Ada Admin")


@pytest.fixture
def manager(api) -> dict:
    return api.create_user("manager@firma.example", role="manager", name="Marta Manager")


@pytest.fixture
def seller(api) -> dict:
    return api.create_user("seller@firma.example", role="user", name="Stefan Sprzedawca")


@pytest.fixture
def other_seller(api) -> dict:
    return api.create_user("other@firma.example", role="user", name="Olga Inna")


@pytest.fixture
def pipeline(api, admin) -> dict:
    response = api.post("/pipelines", admin, json={"name": "Sprzedaż", "stages": [{"name": "Kontakt"}, {"name": "Oferta"}, {"name": "Negocjacje"}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
