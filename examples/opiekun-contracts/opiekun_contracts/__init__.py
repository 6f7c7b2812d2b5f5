"""Contracts: an example partner plugin for Opiekun, and a tour of the plugin contract.

This module is what the entry point ``contracts = opiekun_contracts`` (group
``opiekun.plugins``) names. It holds the ``MANIFEST`` and one function per hook the
plugin implements, each marked ``@hookimpl`` and named exactly as in
:mod:`opiekun.hookspecs` (a misspelt name stops the app at start-up, naming the plugin).

The module is imported even when the plugin is switched off (``OPIEKUN_PLUGINS``), just to
read its manifest. So it imports nothing that declares tables: every hook imports the
plugin's other modules *inside* its body, and a disabled plugin leaves no trace — no
table, route, admin view, permission, job or command.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opiekun.plugin import Permission, PluginManifest, has_permission, hookimpl

if TYPE_CHECKING:
    import click
    from flask import Flask
    from sqlalchemy.orm import Session

    from opiekun.plugin import DemoContext, JobDefinition, RecordField, RecordType, Schedule, User

__version__ = "1.0.0"

MANIFEST = PluginManifest(
    name="contracts",
    version=__version__,
    summary="Contracts with companies: value, term, and a nightly job that ends expired ones",
    depends=(),
)

#: Lets its holders change every contract, also those of other users.
APPROVE = Permission("contracts.approve", "Approve and change every contract, also other users'", ("manager",))

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# --- schema -------------------------------------------------------------------------------


@hookimpl
def opiekun_models() -> Iterable[type]:
    """The plugin's tables: importing the models here, and only here, declares them."""
    from opiekun_contracts.models import Contract

    return [Contract]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The plugin's own Alembic branch (``contracts``); ``opiekun init`` upgrades it."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_record_types() -> Iterable[RecordType]:
    """Register ``contract`` as a record type. From this alone the core gives it CRUD at
    ``/api/v1/contracts`` (in the OpenAPI document), the owner filters, change events for
    audit, the admin list, and a place in offboarding previews and transfers."""
    from opiekun.plugin import RecordApi, RecordType
    from opiekun_contracts.admin import ContractView
    from opiekun_contracts.models import Contract
    from opiekun_contracts.schemas import ContractCreate, ContractFilters, ContractOut, ContractUpdate

    return [
        RecordType(
            "contract",
            Contract,
            "Contract",
            "Contracts",
            "contracts",
            RecordApi(ContractCreate, ContractUpdate, ContractOut, ContractFilters),
            closed=lambda: Contract.status == "ended",
            admin_view=ContractView,
        )
    ]


# --- records ------------------------------------------------------------------------------


@hookimpl
def opiekun_validate_record(record_type: RecordType, record: Any, operation: str) -> Mapping[str, str] | None:
    """Refuse a contract that ends before it starts (422 naming ``end_date`` in the API,
    a form message in the admin). Called for every record type: answer only for ours."""
    if record_type.name != "contract":
        return None
    from opiekun_contracts.services import date_problems

    return date_problems(record) or None


@hookimpl
def opiekun_record_access(user: User, record_type: RecordType, record: Any, action: str) -> bool | None:
    """Holders of ``contracts.approve`` may change any contract; otherwise no opinion (the
    core's rule applies: owners change their own, managers everyone's)."""
    if record_type.name == "contract" and action == "update" and has_permission(user, APPROVE.name):
        return True
    return None


@hookimpl
def opiekun_record_fields(record_type: RecordType) -> Iterable[RecordField]:
    """Companies show how many active contracts they have: the field ``active_contracts``
    in the companies' API answers, a column and a filter of their admin list, and
    ``?active_contracts_min=1`` on their API list — declared here, not patched into the
    core. Called for every record type: answer only for companies."""
    if record_type.name != "company":
        return []
    from flask_babel import lazy_gettext as _l

    from opiekun.plugin import RecordField
    from opiekun_contracts.services import active_contracts_of_company

    return [
        RecordField(
            "active_contracts",
            _l("Active contracts"),
            type=int,
            description="how many active contracts the company has (the contracts plugin)",
            expression=active_contracts_of_company,
        )
    ]


@hookimpl
def opiekun_record_deleting(session: Session, record_type: RecordType, record: Any) -> None:
    """A company with active contracts cannot be deleted: 409 in the API, the message in
    the panel, nothing deleted. Called for every record type: answer only for companies."""
    if record_type.name != "company":
        return
    from opiekun_contracts.services import refuse_deleting_a_company_with_active_contracts

    refuse_deleting_a_company_with_active_contracts(record)


# --- surfaces -----------------------------------------------------------------------------


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """The rights the plugin checks; managers hold ``contracts.approve`` by default."""
    return [APPROVE]


@hookimpl
def opiekun_cli_commands() -> Iterable[click.Command]:
    """``opiekun contracts-report``."""
    from opiekun_contracts.cli import contracts_report_command

    return [contracts_report_command]


@hookimpl
def opiekun_app_ready(app: Flask) -> None:
    """Read the report's default horizon from ``OPIEKUN_CONTRACTS_REPORT_DAYS`` (30 days
    when unset) into ``app.config["CONTRACTS_REPORT_DAYS"]`` once the app is built; a value
    that is not a whole number of days from 1 to 3650 stops the start, naming the plugin.
    Runs outside an app context: it uses ``app`` only."""
    text = os.environ.get("OPIEKUN_CONTRACTS_REPORT_DAYS", "30").strip()
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise ValueError(f"OPIEKUN_CONTRACTS_REPORT_DAYS must be a whole number of days from 1 to 3650, not {text!r}")
    app.config["CONTRACTS_REPORT_DAYS"] = int(text)


# --- background work ----------------------------------------------------------------------


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``contracts.end_expired``: end the contracts whose end date has passed."""
    from opiekun_contracts.jobs import JOBS

    return JOBS


@hookimpl
def opiekun_schedules() -> Iterable[Schedule]:
    """Run ``contracts.end_expired`` every night, five past midnight (UTC)."""
    from opiekun_contracts.jobs import SCHEDULES

    return SCHEDULES


@hookimpl
def opiekun_demo_data(context: DemoContext) -> None:
    """Add a service contract to every third demo company handed over (``opiekun demo``)."""
    from opiekun_contracts.demo import add_demo_contracts

    add_demo_contracts(context)
