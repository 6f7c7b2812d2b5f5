"""``visits``: a partner plugin the tests use, whose records have no ``name`` column —
visits at customers, named by place and day. It checks that the core works with any model:
display names, search, the admin list, the history and offboarding.

Its table exists only in apps that enable it (``extra_plugins=[visits_plugin]``), so the
schema test of the other apps leaves :data:`TABLES` out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from opiekun.plugin import PluginManifest, hookimpl

MANIFEST = PluginManifest(name="visits", version="0.1.0", summary="Visits at customers (a test plugin)")

#: The tables this plugin declares.
TABLES = ("visits",)


@hookimpl
def opiekun_models() -> Iterable[type]:
    """The ``visits`` table."""
    from tests.support.visits_plugin.models import Visit

    return [Visit]


@hookimpl
def opiekun_migrations_dir() -> str:
    """Its own branch, ``visits``."""
    return str(Path(__file__).parent / "migrations")


@hookimpl
def opiekun_record_types():
    """``visit``, with the generic API at ``/api/v1/visits``; no ``search_columns`` and no
    admin view of its own: the core's defaults must work."""
    from opiekun.plugin import RecordApi, RecordType
    from tests.support.visits_plugin.models import Visit
    from tests.support.visits_plugin.schemas import VisitCreate, VisitOut, VisitUpdate

    return [RecordType("visit", Visit, "Visit", "Visits", "visits", RecordApi(VisitCreate, VisitUpdate, VisitOut))]
