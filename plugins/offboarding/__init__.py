"""Offboarding: everything a departed user had — records, tasks, deputyships, partners'
record types — moved to other users in one operation, with a preview, a split across a
team, progress, resume after a crash, and undo.

The plugin knows no other plugin: it asks them through the core hooks
``opiekun_user_items`` (what does the user have?) and ``opiekun_transfer_user_items``
(move it), and learns from the change stream what moved, which is what undo puts back.

Like every plugin, this module only holds the manifest and the hook implementations; the
models are imported inside the hooks, so a disabled offboarding leaves no tables, routes,
admin views, jobs or permissions.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from opiekun.plugin import VERSION, PluginManifest, hookimpl

if TYPE_CHECKING:
    from flask import Blueprint
    from flask_admin import Admin, BaseView
    from sqlalchemy.orm import Session

    from opiekun.plugin import Actor, ChangeSet, JobDefinition, Message, Permission, PluginGap, RecordType, User
    from opiekun.plugin.admin import BulkAction, HomePanel

#: Built in: the plugin's version is the one of the ``opiekun`` package it ships with.
MANIFEST = PluginManifest(
    name="offboarding",
    version=VERSION,
    summary="Transfer everything a departed user had to others: preview, split, progress, resume, undo",
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@hookimpl
def opiekun_models() -> Iterable[type]:
    """Transfers, their steps and the items they moved."""
    from opiekun.plugins.offboarding.models import MovedItem, Transfer, TransferStep

    return [Transfer, TransferStep, MovedItem]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The plugin's Alembic branch ``offboarding`` (first revision ``offboarding_0001``)."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """Inside a transfer (context ``offboarding_transfer_id``), remember which user
    references moved, so that undo can put them back."""
    from opiekun.plugins.offboarding.moves import record_moves

    record_moves(session, change_set)


@hookimpl
def opiekun_user_departed(session: Session, user: User, actor: Actor) -> None:
    """Tell the administrators, in the app, that the user's items wait to be reviewed and
    reassigned (nothing moves by itself). The departed user is told nothing."""
    from opiekun.plugins.offboarding.notifications import notify_admins_of_departure

    notify_admins_of_departure(session, user, actor)


@hookimpl
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message]:
    """Back after a time off: the administrators are told of the users who departed
    meanwhile, as when the plugin hears of a departure."""
    from opiekun.plugin import PluralMessage
    from opiekun.plugins.offboarding.notifications import notify_of_departures_while_off

    departed = notify_of_departures_while_off(session, gap)
    if not departed:
        return []
    return [
        PluralMessage(
            "%(num)d user departed meanwhile: the administrators are told to review their items",
            "%(num)d users departed meanwhile: the administrators are told to review their items",
            departed,
        )
    ]


@hookimpl
def opiekun_blueprints() -> Iterable[Blueprint]:
    """``/api/v1/offboarding/…``: preview, transfers (start, state, resume, undo, items)."""
    from opiekun.plugins.offboarding.api import build_blueprint

    return [build_blueprint()]


@hookimpl
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """Offboarding → Departed users (what each still has; one user's preview and transfer
    form) and Transfers (progress, resume, undo, what undo kept)."""
    from opiekun.plugins.offboarding.admin import admin_views

    return admin_views(admin)


@hookimpl
def opiekun_admin_bulk_actions(record_type: RecordType) -> Iterable[BulkAction]:
    """ "Transfer to…" on every record list: the records of departed owners among the
    selection, or among every record matching the filter, to one user (undoable)."""
    from opiekun.plugins.offboarding.admin.transfer_to import transfer_to_action

    return [transfer_to_action(record_type)]


@hookimpl
def opiekun_admin_user_sections(user: User) -> Iterable[tuple[str, str]]:
    """On a user's admin page: how many items they still have, and "Review and reassign
    everything" (their offboarding page) for those who may transfer."""
    from opiekun.plugins.offboarding.admin.departed_users import user_section

    return user_section(user)


@hookimpl
def opiekun_admin_home_panels(user: User) -> Iterable[HomePanel]:
    """The start page, for the team: departed users who still own records, and transfers
    under way or failed."""
    from opiekun.plugins.offboarding.admin.home_panels import home_panels

    return home_panels(user)


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """``offboarding.transfer``: only administrators hold it until granted to a custom role."""
    from opiekun.plugins.offboarding.permissions import ALL

    return ALL


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``offboarding.transfer``: carries out a planned transfer."""
    from opiekun.plugins.offboarding.jobs import JOBS

    return JOBS
