"""Ownership: every record has a primary owner, and may have deputies, each for a period
and in a role; bulk owner changes; who owned what when; owner required per record type;
owners released after days without activity.

Built from the help pages of Livespace ("Opiekun obiektów") and enova365 ("opiekun
kontrahenta"). Works for every registered record type (the core's six and partners'),
through the record type registry only. See ``README.md`` next to this file for the design.

This module is imported even when the plugin is off, to read ``MANIFEST``: it imports
nothing that declares tables; each hook imports the plugin's modules inside its body.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opiekun.plugin import VERSION, PluginManifest, hookimpl

if TYPE_CHECKING:
    from flask import Blueprint
    from flask_admin import Admin, BaseView
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

    from opiekun.plugin import (
        ChangeSet,
        ItemCount,
        JobDefinition,
        Message,
        Permission,
        PluginGap,
        RecordType,
        Schedule,
        TransferOption,
        TransferRequest,
        TransferResult,
        UndoRequest,
        User,
    )
    from opiekun.plugin.admin import BulkAction

MANIFEST = PluginManifest(
    name="ownership",
    version=VERSION,  # a built-in plugin: the version of the opiekun package
    summary="Owners of records: primary and deputies with roles and periods, bulk changes, history, "
    "owner required, release after inactivity",
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@hookimpl
def opiekun_models() -> Iterable[type]:
    """``ownership_assignments``, ``ownership_handovers`` and ``ownership_settings``."""
    from opiekun.plugins.ownership.models import OwnerAssignment, OwnerHandover, OwnershipSettings

    return [OwnerAssignment, OwnerHandover, OwnershipSettings]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The branch ``ownership`` (first revision ``ownership_0001``)."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """``ownership.settings``: change the settings per record type and the owner roles."""
    from opiekun.plugins.ownership.permissions import ALL

    return ALL


@hookimpl
def opiekun_blueprints() -> Iterable[Blueprint]:
    """``/api/v1/ownership/...``: settings, options, assignments, owner on a day, portfolio."""
    from opiekun.plugins.ownership.api import build_blueprint

    return [build_blueprint()]


@hookimpl
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """Settings per record type, owner roles, and the "records by owner" report."""
    from opiekun.plugins.ownership.admin import admin_views

    return admin_views()


@hookimpl
def opiekun_admin_bulk_actions(record_type: RecordType) -> Iterable[BulkAction]:
    """ "Change owner…" on every record list: the selection or all records matching the filter."""
    from opiekun.plugins.ownership.admin import change_owner_action

    return [action for action in [change_owner_action(record_type)] if action]


@hookimpl
def opiekun_admin_record_sections(record_type: RecordType, record: Any) -> Iterable[tuple[str, str]]:
    """The "Owners" section of every record's page: its whole ownership history."""
    from opiekun.plugins.ownership.admin import owners_section

    return [section for section in [owners_section(record_type, record)] if section]


@hookimpl
def opiekun_admin_form(record_type: RecordType, form: Any, record: Any) -> None:
    """Roles that may not change owners of the type see the owner read-only on its forms (a
    new record is theirs), and so does a deputy on the record it stands in for."""
    from opiekun.plugins.ownership.admin import lock_owner_field

    lock_owner_field(record_type, form, record)


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``ownership.apply_periods`` and ``ownership.release_inactive``."""
    from opiekun.plugins.ownership.jobs import JOBS

    return JOBS


@hookimpl
def opiekun_schedules() -> Iterable[Schedule]:
    """Periods take effect daily just after midnight (and hourly as a catch-up); owners of
    inactive records are released at 02:30 UTC."""
    from opiekun.plugins.ownership.jobs import SCHEDULES

    return SCHEDULES


@hookimpl
def opiekun_validate_record(record_type: RecordType, record: Any, operation: str) -> Mapping[str, str] | None:
    """Owner required (per type): a record without owner is refused, naming ``owner_id``.
    Choosing the owner — of a new record someone else than oneself, or changing it — needs a
    role the type's ``change_roles`` allows, and a deputy does not change it (403 otherwise)."""
    from opiekun.plugins.ownership.rights import owner_problems

    return owner_problems(record_type, record, operation) or None


@hookimpl
def opiekun_record_access(user: User, record_type: RecordType, record: Any, action: str) -> bool | None:
    """A deputy in force today with ``write`` access may change the record — edit it, not
    delete it or change its owner (:func:`~opiekun.plugins.ownership.rights.require_owner_choice_right`)."""
    if action != "update" or user is None or record.id is None:
        return None
    from opiekun.plugins.ownership.periods import has_write_deputyship

    return True if has_write_deputyship(user.id, record_type.name, record.id) else None


@hookimpl
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """Owner changes made elsewhere start a new primary period today (set-based for bulk
    changes); deleted records lose their periods."""
    from opiekun.plugins.ownership.sync import on_records_changed

    on_records_changed(session, change_set)


@hookimpl
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message]:
    """Back after a time off: periods of records deleted meanwhile go, owners given
    meanwhile get their periods, and the rest follow their periods."""
    from opiekun.plugins.ownership.catch_up import catch_up

    return catch_up(session, gap)


@hookimpl
def opiekun_user_items(user_id: int, include_closed: bool) -> Iterable[ItemCount]:
    """Deputy periods (in force or planned) and planned primary periods, per record type."""
    from opiekun.plugin import ItemCount
    from opiekun.plugins.ownership.handovers import deputy_counts

    items = []
    for record_type, deputies, planned in deputy_counts(user_id):
        if deputies:
            items.append(ItemCount(record_type.name, record_type.label_plural, deputies, 0, kind="deputy"))
        if planned:
            items.append(ItemCount(record_type.name, record_type.label_plural, planned, 0, kind="planned_owner"))
    return items


@hookimpl
def opiekun_transfer_options() -> Iterable[TransferOption]:
    """``promote_deputies`` and ``deputies_stay``, read by this plugin's transfer hooks."""
    from flask_babel import lazy_gettext as _l

    from opiekun.plugin import TransferOption

    return [
        TransferOption(
            "promote_deputies",
            _l("Promote deputies"),
            _l("Records with a deputy in force go to that deputy instead"),
            default=False,
            redirects=True,
        ),
        TransferOption(
            "deputies_stay",
            _l("Deputies stay"),
            _l("Other users' deputy periods on the moved records go on"),
            default=True,
        ),
    ]


@hookimpl
def opiekun_transfer_prepare(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """Before anything moves: with ``promote_deputies``, records that have a deputy in force
    go to the deputy instead; with ``deputies_stay=False``, other users' deputy periods on
    the records about to move end. Both judge the records while they are still the user's.
    A "follow the company" step does neither."""
    from opiekun.plugin import TransferResult
    from opiekun.plugins.ownership.handovers import end_deputies_of_moving_records, promote_deputies

    options = request.options or {}
    if options.get("follow_company_only"):
        return []
    results = []
    if options.get("promote_deputies"):
        promoted = promote_deputies(
            session, request.from_user_id, request.object_types, request.include_closed, request.transfer_id
        )
        results += [TransferResult(name, count, kind="promoted_deputy") for name, count in promoted.items()]
    if options.get("deputies_stay") is False:
        end_deputies_of_moving_records(session, request)
    return results


@hookimpl
def opiekun_transfer_user_items(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """Move the user's deputy periods and planned primary periods of the requested types
    (the ``owner_id`` itself is moved by the core; this plugin's change hook keeps the
    history). A "follow the company" step moves no periods."""
    from opiekun.plugin import TransferResult
    from opiekun.plugins.ownership.handovers import transfer_assignments

    if (request.options or {}).get("follow_company_only"):
        return []
    moved = transfer_assignments(
        session,
        request.from_user_id,
        request.to_user_id,
        request.object_types,
        request.include_closed,
        request.share,
        request.transfer_id,
    )
    return [TransferResult(name, count, kind=kind) for (name, kind), count in moved.items()]


@hookimpl
def opiekun_undo_transfer(session: Session, request: UndoRequest) -> None:
    """The deputy and planned primary periods the transfer handed over go back to the former
    user, and the deputy periods it ended (promoted deputies, deputies not kept) run on as
    before — unless they changed since (deleted, given to someone else, other dates)."""
    from opiekun.plugins.ownership.handovers import undo_handovers

    undo_handovers(session, request.transfer_id, request.from_user_id)


@hookimpl
def opiekun_moved_items(transfer_id: int) -> Select:
    """The deputy and planned primary periods the transfer handed over or ended (kind
    ``deputy`` or ``planned_owner``), with their outcome after undo."""
    from opiekun.plugins.ownership.handovers import handed_over

    return handed_over(transfer_id)
