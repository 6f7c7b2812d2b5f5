"""The suite's fixtures: an app on SQLite (default) or PostgreSQL, a clean database per
test, an API client and the usual people. What tests import (helpers, constants) lives in
``opiekun.testing`` (the kit partners use too) and ``tests.support``; this file holds fixtures only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opiekun.extensions import db
from opiekun.testing.apps import FreshDatabase, build_app, empty_tables
from opiekun.testing.clients import ApiClient


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory) -> Iterator[FreshDatabase]:
    databases = FreshDatabase(tmp_path_factory.mktemp("databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def app(tmp_path_factory, fresh_database):
    """The app with every installed plugin, its schema created through the migrations."""
    instance = tmp_path_factory.mktemp("instance")
    application = build_app(instance, fresh_database.url())
    yield application
    with application.app_context():
        db.engine.dispose()


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
    response = api.post(
        "/pipelines",
        admin,
        json={"name": "Sprzedaż", "stages": [{"name": "Kontakt"}, {"name": "Oferta"}, {"name": "Negocjacje"}]},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()
