"""Audit: the change history of every record — who, when, what, each field before and
after — with filters, Excel export, anonymization and a tamper-evident hash chain.

The history is recorded from the core's change stream only (hook
``opiekun_records_changed``): audit knows no other plugin's models, and every change made by
forms, the API, bulk actions, jobs and other plugins reaches it with the acting user or job.
See ``README.md`` next to this file for the design (hash chain, anonymization, bulk).

Like every plugin, this module only holds the manifest and the hook implementations; the
models are imported inside the hooks, so a disabled audit leaves no tables, routes, admin
views, jobs, permissions or commands.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opiekun.plugin import VERSION, PluginManifest, hookimpl

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from flask_admin import Admin, BaseView
    from sqlalchemy.orm import Session

    from opiekun.plugin import ChangeSet, JobDefinition, Message, Permission, PluginGap, RecordType, Schedule

#: Built in: the plugin's version is the one of the ``opiekun`` package it ships with.
MANIFEST = PluginManifest(
    name="audit",
    version=VERSION,
    summary="Change history of every record: filters, Excel export, anonymization, tamper evidence",
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@hookimpl
def opiekun_models() -> Iterable[type]:
    """The history entries, the head of their hash chain and the per-type configuration."""
    from opiekun.plugins.audit.models import AuditChain, AuditEntry, AuditTypeSetting

    return [AuditEntry, AuditChain, AuditTypeSetting]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The plugin's Alembic branch ``audit`` (first revision ``audit_0001``)."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """Record every event of the change set, in the same transaction (a rolled-back change
    leaves no entry): per-record events with one executemany INSERT, set-based changes
    with one INSERT … SELECT each; all chained."""
    from opiekun.plugins.audit.recording import record_change_set

    record_change_set(session, change_set)


@hookimpl
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message]:
    """Back after a time off: the changes of that time were not recorded and cannot be;
    the gap is stated (here, and above every history list it touches), not filled in."""
    from opiekun.plugin import Message

    return [Message("changes made while the history was off were not recorded; the history lists say so")]


@hookimpl
def opiekun_blueprints() -> Iterable[Blueprint]:
    """``/api/v1/audit…`` and ``POST /api/v1/persons/<id>/anonymize``."""
    from opiekun.plugins.audit.api import build_blueprint

    return [build_blueprint()]


@hookimpl
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """The history page (filters, export, history of one record) and the integrity page."""
    from opiekun.plugins.audit.admin import AuditIntegrityView, AuditView
    from opiekun.plugins.audit.anonymization_admin import AnonymizeView

    return [AuditView(), AuditIntegrityView(), AnonymizeView()]


@hookimpl
def opiekun_admin_record_sections(record_type: RecordType, record: Any) -> Iterable[tuple[str, str]]:
    """A "History" section on every record's admin page: its latest entries and a link to
    its whole history (shown to those who may see the history); on a person's page, the
    button that anonymizes them (for those who may)."""
    from opiekun.plugins.audit.admin import history_section
    from opiekun.plugins.audit.anonymization_admin import anonymize_section

    return [*history_section(record_type, record), *anonymize_section(record_type, record)]


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """``audit.view`` (see and export), ``audit.anonymize``, ``audit.configure``; only
    administrators hold them until granted to a custom role."""
    from opiekun.plugins.audit.permissions import ALL

    return ALL


@hookimpl
def opiekun_cli_commands() -> Iterable[click.Command]:
    """``opiekun audit verify`` and ``opiekun audit purge``."""
    from opiekun.plugins.audit.cli import audit_group

    return [audit_group]


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``audit.export`` (large Excel exports) and ``audit.purge`` (retention)."""
    from opiekun.plugins.audit.jobs import JOBS

    return JOBS


@hookimpl
def opiekun_schedules() -> Iterable[Schedule]:
    """``audit.purge`` every night; it does nothing until a retention is set."""
    from opiekun.plugins.audit.jobs import SCHEDULES

    return SCHEDULES
