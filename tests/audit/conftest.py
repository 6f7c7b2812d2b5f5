"""The app the audit tests run against: the core, audit and the partner plugin ``contracts``
only (audit must work knowing no other plugin), on the test database (SQLite or
PostgreSQL), one per test module. The ``api``, ``admin``, ``seller``… fixtures of
``tests/conftest.py`` build on it.
"""

from __future__ import annotations

import pytest

from opiekun.extensions import db
from opiekun.testing.apps import build_app

#: The plugins of the audit tests' app.
AUDIT_PLUGINS = ("audit", "contracts")


@pytest.fixture(scope="module")
def app(tmp_path_factory, fresh_database):
    """An app with audit and contracts (overriding the shared all-plugins one)."""
    application = build_app(tmp_path_factory.mktemp("audit"), fresh_database.url(), plugins=AUDIT_PLUGINS)
    yield application
    with application.app_context():
        db.engine.dispose()
