"""The app ownership's tests run against: the core, ownership and the partner plugin
``contracts`` (a record type ownership knows only through the registry), on the test
database (SQLite or PostgreSQL), schema through the migrations.

Import ``app`` into a test module to use it instead of the all-plugins app of
``tests/conftest.py``; the ``api``, ``admin``, ``seller``… fixtures then build on it.
"""
from __future__ import annotations

import datetime as dt

import pytest

from opiekun.extensions import db
from opiekun.models import utcnow
from tests.conftest import build_app

PLUGINS = ("ownership", "contracts")


@pytest.fixture(scope="module")
def app(tmp_path_factory, fresh_database):
    application = build_app(tmp_path_factory.mktemp("ownership"), fresh_database.url(), plugins=PLUGINS)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def day(offset: int = 0) -> str:
    """Today (UTC, as the plugin counts days) shifted by ``offset`` days, as ``YYYY-MM-DD``."""
    return (utcnow().date() + dt.timedelta(days=offset)).isoformat()
