"""``visits``: a partner plugin the tests use, whose records have no ``name`` column —
visits at customers, named by place and day. It checks that the core works with any model:
display names, search, the admin list, the history and offboarding. It also adds a field it
stores to companies, ``visit_every_days`` (``opiekun_record_fields`` with ``expression``
and ``save``): filtered and typed in the API and the panel like the company's own fields.

Its table exists only in apps that enable it (``extra_plugins=[visits_plugin]``), so the
schema test of the other apps leaves :data:`TABLES` out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from opiekun.plugin import PluginManifest, hookimpl

MANIFEST = PluginManifest(name="visits", version="0.1.0", summary="Visits at customers (a test plugin)")

#: The tables this plugin declares.
TABLES = ("visits", "visit_plans")


@hookimpl
def opiekun_models() -> Iterable[type]:
    """The ``visits`` and ``visit_plans`` tables."""
    from tests.support.visits_plugin.models import Visit, VisitPlan

    return [Visit, VisitPlan]


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


@hookimpl
def opiekun_record_fields(record_type):
    """Companies get ``visit_every_days``: how often the company should be visited, kept in
    ``visit_plans``; filtered (``?visit_every_days_max=30``) and set in the company's form
    and body. Answers only for companies."""
    if record_type.name != "company":
        return []
    from opiekun.plugin import RecordField
    from tests.support.visits_plugin.plans import every_days_of_company, plan_visits

    return [
        RecordField(
            "visit_every_days",
            "Wizyty co (dni)",
            type=int,
            description="how many days between visits (1-365), or null: no plan",
            expression=every_days_of_company,
            save=plan_visits,
        )
    ]
