"""The fixtures of :mod:`opiekun.testing`, loaded by pytest through the entry point
``pytest11`` (``opiekun = "opiekun.testing.pytest_plugin"``). Every fixture's name starts
with ``opiekun_``, so a project's own fixtures never collide with them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from opiekun.testing.apps import FreshDatabase, build_app, close_app, empty_tables
from opiekun.testing.clients import AdminBrowser, ApiClient, logged_in
from opiekun.testing.plugins import ChangeRecorder

#: The recorder every ``opiekun_app`` carries (as the plugin ``opiekun_test_recorder``).
_RECORDER = ChangeRecorder("opiekun_test_recorder")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "opiekun_plugins",
        "plugins the opiekun_app fixture enables (comma-separated; default: every installed plugin)",
        default="",
    )


@pytest.fixture(scope="session")
def opiekun_databases(tmp_path_factory) -> Iterator[FreshDatabase]:
    """Fresh databases for the session's apps (SQLite files, or PostgreSQL databases on the
    server of ``OPIEKUN_TEST_DATABASE_URL``, dropped at the end)."""
    databases = FreshDatabase(tmp_path_factory.mktemp("opiekun-databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="module")
def opiekun_app(request, tmp_path_factory, opiekun_databases):
    """The product with the chosen plugins on, one per test module."""
    chosen = [name.strip() for name in request.config.getini("opiekun_plugins").split(",") if name.strip()]
    app = build_app(
        tmp_path_factory.mktemp("opiekun-instance"),
        opiekun_databases.url(),
        extra_plugins=[_RECORDER.module],
        plugins=(*chosen, _RECORDER.module.MANIFEST.name) if chosen else None,
    )
    yield app
    close_app(app)


@pytest.fixture
def opiekun_api(opiekun_app) -> Iterator[ApiClient]:
    """The JSON API as an integration speaks it, on a database as ``opiekun init`` leaves
    it (the default sales pipeline, no users); every table is emptied after the test."""
    from opiekun.extensions import db
    from opiekun.sales_pipeline import ensure_default_pipeline

    with opiekun_app.app_context():
        ensure_default_pipeline()
        db.session.commit()
    yield ApiClient(opiekun_app)
    empty_tables(opiekun_app)


@pytest.fixture
def opiekun_admin(opiekun_api) -> dict:
    return opiekun_api.create_user("admin@example.com", role="admin", name="Ada Admin")


@pytest.fixture
def opiekun_user(opiekun_api) -> dict:
    return opiekun_api.create_user("seller@example.com", role="user", name="Stefan Seller")


@pytest.fixture
def opiekun_browser(opiekun_app, opiekun_api) -> Callable[[dict], AdminBrowser]:
    """``opiekun_browser(user)``: a person at the admin panel, logged in as ``user``."""
    return lambda user: logged_in(opiekun_app, user)


@pytest.fixture
def opiekun_recorder(opiekun_api) -> ChangeRecorder:
    """What the change stream carried during this test (records and bulk rows)."""
    _RECORDER.clear()
    return _RECORDER
