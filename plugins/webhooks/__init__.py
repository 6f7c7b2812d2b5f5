"""Webhooks: every committed change of the records an endpoint wants, delivered to it as
signed JSON events — in order, in batches, at least once, retried with back-off.

The events come from the core's change stream only (hook ``opiekun_records_changed``): the
outbox is written in the transaction of the change, so forms, the API, bulk changes,
offboarding transfers, jobs and other plugins' changes all reach integrators, and a
change that rolls back never does. rq jobs deliver the outbox (see ``README.md`` next to
this file for the design).

Like every plugin, this module only holds the manifest and the hook implementations; the
models are imported inside the hooks, so a disabled plugin leaves no tables, routes, admin
views, jobs or permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from opiekun.plugin import VERSION, PluginManifest, hookimpl

if TYPE_CHECKING:
    from flask import Blueprint, Flask
    from flask_admin import Admin, BaseView
    from sqlalchemy.orm import Session

    from opiekun.plugin import ChangeSet, JobDefinition, Message, Permission, PluginGap, Schedule

#: Built in: the plugin's version is the one of the ``opiekun`` package it ships with.
MANIFEST = PluginManifest(
    name="webhooks",
    version=VERSION,
    summary="Signed JSON events of every change, delivered to integrators' endpoints",
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@hookimpl
def opiekun_models() -> Iterable[type]:
    """Endpoints, the outbox of events and its head row, and the delivery log."""
    from opiekun.plugins.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookOutboxHead

    return [WebhookEndpoint, WebhookEvent, WebhookOutboxHead, WebhookDelivery]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The plugin's Alembic branch ``webhooks`` (first revision ``webhooks_0001``)."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_app_ready(app: Flask) -> None:
    """Read the deployment's webhook settings (``OPIEKUN_WEBHOOKS_…``) into the app."""
    from opiekun.plugins.webhooks.settings import load_settings

    load_settings(app)


@hookimpl
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """Write the events some endpoint wants into the outbox, in the same transaction (one
    INSERT for a flush's events, one INSERT … SELECT per set-based change), and start
    their delivery when it commits."""
    from opiekun.plugins.webhooks.outbox import write_change_set

    write_change_set(session, change_set)


@hookimpl
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message]:
    """Back after a time off: the changes of that time were not written to the outbox and
    cannot be; the administrators are told so (endpoints resume with the changes from now)."""
    from opiekun.plugin import Message

    return [Message("changes made while webhooks were off were not delivered, and will not be")]


@hookimpl
def opiekun_blueprints() -> Iterable[Blueprint]:
    """``/api/v1/webhooks…``: endpoints, their deliveries, redelivery."""
    from opiekun.plugins.webhooks.api import build_blueprint

    return [build_blueprint()]


@hookimpl
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """Administracja → Webhooki (endpoints) and their delivery log."""
    from opiekun.plugins.webhooks.admin import DeliveryView, EndpointView

    return [EndpointView(), DeliveryView()]


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """``webhooks.manage``; only administrators hold it until granted to a custom role."""
    from opiekun.plugins.webhooks.permissions import ALL

    return ALL


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``webhooks.deliver`` (one endpoint's waiting events), ``webhooks.redeliver``,
    ``webhooks.deliver_due`` and ``webhooks.purge``."""
    from opiekun.plugins.webhooks.jobs import JOBS

    return JOBS


@hookimpl
def opiekun_schedules() -> Iterable[Schedule]:
    """``webhooks.deliver_due`` every minute (retries and deliveries whose job was lost)
    and ``webhooks.purge`` every night."""
    from opiekun.plugins.webhooks.jobs import SCHEDULES

    return SCHEDULES
