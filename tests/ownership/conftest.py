"""The app ownership's tests run against: the core, ownership and the partner plugin
``contracts`` (a record type ownership knows only through the registry), on the test
database (SQLite or PostgreSQL), schema through the migrations.

The ``app`` fixture here overrides the all-plugins app of ``tests/conftest.py`` for every
test in this folder; the ``api``, ``admin``, ``seller``… fixtures then build on it.
"""

from __future__ import annotations

import pytest

from opiekun.testing.apps import build_app, close_app

PLUGINS = ("ownership", "contracts")


@pytest.fixture(scope="module")
def app(tmp_path_factory, fresh_database):
    """One app with ownership and contracts per test module."""
    application = build_app(tmp_path_factory.mktemp("ownership"), fresh_database.url(), plugins=PLUGINS)
    yield application
    close_app(application)
