"""The partner contract: every hook a plugin may implement.

A plugin is a module (or package) with a ``MANIFEST`` (:class:`opiekun.plugin.PluginManifest`)
and functions marked ``@hookimpl`` (from :mod:`opiekun.plugin`) whose names are the ones
below; it imports the core only from :mod:`opiekun.plugin` and its ``api`` and ``admin``
companions. It is found
through the entry-point group ``opiekun.plugins`` — the built-in plugins are registered in
exactly the same way. Implement only the hooks you need; keep arguments named as here
(pluggy passes only those your function asks for, so you may take fewer).

Unless a docstring says otherwise, a hook is called on every enabled plugin, in
dependency order (a plugin after the plugins it depends on; the core's own
implementations first), and the non-``None`` results are collected into a list.

Every hook is called through pluggy, so ``OPIEKUN_TRACE_HOOKS=1`` logs each call and a
``@hookimpl(wrapper=True)`` sees the results. Where plugins must act in a sequence, the
contract has phases (``opiekun_transfer_prepare`` before ``opiekun_transfer_user_items``):
do not rely on ``tryfirst``.

Start-up hooks run while the app is built; a plugin whose start-up hook raises stops the
start with a message naming the plugin. Hooks about changes (``opiekun_records_changed``,
``opiekun_record_deleting``, ``opiekun_deal_closed``, ``opiekun_user_departed``,
``opiekun_transfer_prepare``, ``opiekun_transfer_user_items``, ``opiekun_undo_transfer``,
``opiekun_plugin_resumed``) run inside the caller's database transaction: write through
the ``session`` you are given, never commit it; raising rolls the whole change back.

A hook that refuses something raises one of the domain's errors (``Refused``,
``NotFound``, ``Conflict``, ``Invalid``, ``Gone`` from :mod:`opiekun.plugin`) with a
``Message``, never an HTTP error: the API and the admin each show it their own way.
A plugin ships its texts in a ``translations/`` folder beside its module (the catalogs
share the core's domain ``messages``) and its pages in ``templates/<plugin>/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from opiekun import PROJECT_NAME

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from flask_admin import Admin, BaseView
    from sqlalchemy import Select
    from sqlalchemy.orm import Session
    from wtforms import Form

    from opiekun.admin.actions import BulkAction
    from opiekun.admin.home import HomePanel
    from opiekun.changes import Actor, ChangeSet
    from opiekun.demo import DemoContext
    from opiekun.errors import Message
    from opiekun.jobs import JobDefinition, Schedule
    from opiekun.models import Deal, PluginGap, User
    from opiekun.permissions import Permission
    from opiekun.record_registry import RecordField, RecordType
    from opiekun.user_items import ItemCount, TransferOption, TransferRequest, TransferResult, UndoRequest

hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = [
    "opiekun_admin_bulk_actions",
    "opiekun_admin_form",
    "opiekun_admin_home_panels",
    "opiekun_admin_record_sections",
    "opiekun_admin_user_sections",
    "opiekun_admin_views",
    "opiekun_app_ready",
    "opiekun_blueprints",
    "opiekun_cli_commands",
    "opiekun_deal_closed",
    "opiekun_demo_data",
    "opiekun_jobs",
    "opiekun_migrations_dir",
    "opiekun_models",
    "opiekun_moved_items",
    "opiekun_permissions",
    "opiekun_plugin_resumed",
    "opiekun_record_access",
    "opiekun_record_deleting",
    "opiekun_record_fields",
    "opiekun_record_types",
    "opiekun_records_changed",
    "opiekun_schedules",
    "opiekun_transfer_options",
    "opiekun_transfer_prepare",
    "opiekun_transfer_user_items",
    "opiekun_undo_transfer",
    "opiekun_user_departed",
    "opiekun_user_items",
    "opiekun_validate_record",
]


# --- schema -------------------------------------------------------------------------------


@hookspec
def opiekun_models() -> Iterable[type]:
    """Import and return the plugin's SQLAlchemy model classes.

    Called once while the app is built, before anything touches the database. Import your
    ``models`` module *inside* this function, never at the top of the plugin module: the
    plugin module is imported even when the plugin is off, and a disabled plugin must leave
    no tables behind.
    """


@hookspec
def opiekun_migrations_dir() -> str | None:
    """Return the folder of the plugin's Alembic revisions (its own branch), or ``None``.

    The first revision of the folder carries ``down_revision = None``,
    ``branch_labels = ("<plugin name>",)`` and ``depends_on`` naming the core revision whose
    tables it refers to (``"core_0001"``) plus the revisions of the plugins it depends on.
    ``opiekun init`` upgrades the branches of the enabled plugins only.
    """


@hookspec
def opiekun_record_types() -> Iterable[RecordType]:
    """Return the record types the plugin adds (:class:`opiekun.plugin.RecordType`).

    A registered type gets, without further code: the change stream (so audit records
    it), the owner filters, offboarding previews and transfers of its ``owner_id`` (unless
    it is registered with ``owner_items=False``: then the plugin answers
    ``opiekun_user_items`` / ``opiekun_transfer_user_items`` for it itself), and —
    when it brings :class:`~opiekun.plugin.RecordApi` schemas — CRUD under
    ``/api/v1/<api_path>`` described in the OpenAPI document.
    """


# --- surfaces -----------------------------------------------------------------------------


@hookspec
def opiekun_record_fields(record_type: RecordType) -> Iterable[RecordField]:
    """Fields your plugin adds to ``record_type`` — any type, the core's or another
    plugin's (:class:`~opiekun.plugin.RecordField`): each shows in the type's API answers
    and OpenAPI schema and as a column of its admin list and record page, computed once per
    page (your ``values(ids)``, or your ``expression``: read with the rows of an API list's
    page, in one query elsewhere). With an
    ``expression`` the field is also a filter of the type's API list (``?name=``,
    ``name_min``, ``name_max``) and of its admin list; with ``save(record, value)`` it is
    also a field of the type's admin form and of its API bodies, stored by you in the
    record's transaction. Called once per record type while the app is built; answer only
    for the types you extend."""


@hookspec
def opiekun_blueprints() -> Iterable[Blueprint]:
    """Return Flask blueprints to register (API routes go under ``/api/v1/...``).

    Decorate API views with ``opiekun.plugin.api.validate(...)`` so they are validated and
    appear in ``/api/v1/openapi.json``. Refuse with the domain's errors
    (:mod:`opiekun.errors`: ``Refused``, ``NotFound``, ``Conflict``, ``Invalid``, ``Gone``);
    the API answers each with its status and the uniform JSON error body, and the admin
    shows the same refusal as a message. Only what HTTP alone knows (a malformed request,
    a missing token) is an :class:`opiekun.plugin.api.ApiError`.
    """


@hookspec
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """Return Flask-Admin views to add to the panel at ``/admin``.

    Record views should subclass :class:`opiekun.plugin.admin.RecordView`, which brings
    login, CSRF, the owner filters and every plugin's bulk actions.
    """


@hookspec
def opiekun_admin_bulk_actions(record_type: RecordType) -> Iterable[BulkAction]:
    """Return bulk actions (:class:`opiekun.plugin.admin.BulkAction`) offered on the admin
    list of ``record_type``. Called once per record type when the admin is built; an action
    acts on the selected rows or on every row matching the list's current filter."""


@hookspec
def opiekun_admin_record_sections(record_type: RecordType, record: Any) -> Iterable[tuple[str, str]]:
    """Return sections to show on the admin page of one record (below its fields), as
    ``(title, html)`` pairs; ``html`` must be safe markup (escape what users typed, e.g.
    with ``markupsafe.Markup.format``). Called each time a record's details page is shown;
    example: ownership's "Owners" section with the record's ownership history."""


@hookspec
def opiekun_admin_user_sections(user: User) -> Iterable[tuple[str, str]]:
    """Return sections to show on the admin page of one user (below their fields), as
    ``(title, html)`` pairs of safe markup, like :func:`opiekun_admin_record_sections`.
    Called for the user pages of the Users list (their managers) and for "My account",
    the logged-in user's own page (``user`` is then ``current_user``; everyone has it).
    Check the viewer's permissions yourself (``flask_login.current_user``); examples:
    offboarding's "Items" section with "Review and reassign everything", the tasks
    plugin's calendar link (on one's own page only)."""


@hookspec
def opiekun_admin_home_panels(user: User) -> Iterable[HomePanel]:
    """Return panels for the start page of ``user`` (the logged-in user), as
    :class:`opiekun.plugin.admin.HomePanel` s: figures (each a number linked to the filtered
    list it counts), rows of links, an optional chart (:func:`opiekun.plugin.admin.bar_chart`).
    Panels with ``team=True`` are shown only to users holding ``dashboard.team`` (the
    team's work, under "Team"); check your own permissions too. Called on every visit of the
    start page: count with indexed queries, never by loading rows. Examples: the tasks
    plugin's "My tasks" (today and overdue) and the team's overdue tasks; offboarding's
    departed users who still own records and transfers under way or failed."""


@hookspec
def opiekun_admin_form(record_type: RecordType, form: Form, record: Any | None) -> None:
    """Adjust the admin form of one record for the logged-in user before it is shown or
    checked: ``record`` is the record being edited (``None`` on the create form). A plugin
    may make a field read-only, remove it or add validators (its messages are shown under
    the field). Example: ownership shows the owner read-only to roles that may not change
    owners."""


@hookspec
def opiekun_permissions() -> Iterable[Permission]:
    """Return the permissions the plugin checks (:class:`opiekun.plugin.Permission`),
    with the built-in roles that hold them by default. Admins can grant them to custom
    roles; a disabled plugin's permissions do not exist."""


@hookspec
def opiekun_cli_commands() -> Iterable[click.Command]:
    """Return click commands (or groups) to add to the ``opiekun`` command line."""


@hookspec
def opiekun_app_ready(app: Flask) -> None:
    """Called once, last, when the app is fully built (all hooks above have run): the place
    to read or default your settings in ``app.config``, add template filters or check what
    you need of the deployment. It runs **outside** an app context (no ``current_app``, no
    database session): use ``app`` itself, and ``with app.app_context():`` if you must query.
    Raising stops the start with a message naming your plugin."""


# --- background work ----------------------------------------------------------------------


@hookspec
def opiekun_jobs() -> Iterable[JobDefinition]:
    """Return the background jobs the plugin runs (:class:`opiekun.plugin.JobDefinition`).

    Only registered jobs can be enqueued (``opiekun.plugin.enqueue(name, **kwargs)``, or
    ``enqueue_on_commit`` when the job reads rows the current transaction writes) and run
    by a worker; the job function runs inside an app context, with the enqueuing user as
    the acting user of its changes, and may report progress with
    ``opiekun.plugin.report_progress``. Its transaction is committed when it returns.
    """


@hookspec
def opiekun_schedules() -> Iterable[Schedule]:
    """Return periodic runs of registered jobs (:class:`opiekun.plugin.Schedule`: a cron
    string or an interval in seconds). Production runs them with rq's cron scheduler
    (``opiekun scheduler``); the embedded mode runs them in-process."""


@hookspec
def opiekun_demo_data(context: DemoContext) -> None:
    """Add the plugin's demo data, called by ``opiekun demo`` after the core's (users,
    companies, persons, deals, offers, invoices exist: see ``context``). Called only once
    per plugin and database, so a second ``opiekun demo`` adds nothing twice.

    ``context.companies``, ``context.persons`` and ``context.deals`` are a sample, not every
    record: up to 1,000 of each, the first ones (a demo may hold a million companies).
    Build on them; data that needs every record is written set-based from the tables."""


# --- records ------------------------------------------------------------------------------


@hookspec
def opiekun_validate_record(record_type: RecordType, record: Any, operation: str) -> Mapping[str, str] | None:
    """Check a record about to be saved by the API or the admin (``operation`` is
    ``create`` or ``update``); return ``{field: problem}`` to refuse it (422 in the API, a
    form message in the admin), or ``None``. Example: ownership's "owner required"."""


@hookspec
def opiekun_record_access(user: User, record_type: RecordType, record: Any, action: str) -> bool | None:
    """Decide whether ``user`` may ``action`` (``update`` or ``delete``) ``record``.

    Return ``True`` to allow beyond the core's rule (owner, no owner, or the
    ``records.edit_others`` permission), ``False`` to forbid, ``None`` for no opinion. Any
    ``False`` wins over every ``True``.
    """


@hookspec
def opiekun_record_deleting(session: Session, record_type: RecordType, record: Any) -> None:
    """A record of any type is about to be deleted — through the API, the panel (its
    page or a bulk delete) or a service — by someone allowed to delete it.

    Called on every enabled plugin, inside the deleting transaction, before the core
    clears the links other record types hold to it (their columns pointing at it become
    null, with change events) and before the row goes. Either:

    * **refuse**: raise :class:`~opiekun.plugin.Conflict` with a
      :class:`~opiekun.plugin.Message` saying why and what to do ("the company has 2 active
      contracts: end them first"). Nothing is deleted; the API answers 409 with your
      message, the panel shows it translated. Or
    * **clean up** what your plugin holds about the record — rows of tables that are not
      record types, whose foreign key would otherwise refuse the deletion — through
      ``session`` (do not commit).

    Answer only for the record types you care about (check ``record_type.name``). What
    happened after the deletion reaches ``opiekun_records_changed`` as a ``delete``.
    """


@hookspec
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """Receive the change events of one flush or one set-based statement.

    Called inside the transaction that made the change, after the rows are written and
    before commit; a rolled-back change never reaches this hook after the fact. Write what
    you derive through ``session`` (prefer set-based ``INSERT … SELECT`` over
    ``change_set.bulk``); do not commit. See :mod:`opiekun.changes`.
    """


@hookspec
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message | str] | None:
    """Your plugin is back on after being off from ``gap.off_from`` to ``gap.off_until``
    (UTC): catch up with the core records that changed meanwhile without reaching
    ``opiekun_records_changed`` — deleted, created, given another owner.

    Called for **your plugin alone**, by ``opiekun init`` (after its schema branch is
    upgraded), once per gap, inside one transaction of its own: write through ``session``,
    do not commit; raising rolls your catching up back and ``opiekun init`` stops naming your
    plugin (the gap is retried on the next run). Work set-based (anti-joins against the
    record tables, not a loop over records) and idempotent. Return what you changed, one
    :class:`~opiekun.plugin.Message` per line (``Message("%(count)d periods of deleted
    records removed", count=3)``): ``opiekun init`` prints them, the plugins page shows them
    translated. Changes you make through :func:`opiekun.plugin.update_records` reach the
    history as made by the job ``opiekun init``.
    """


@hookspec
def opiekun_deal_closed(session: Session, deal: Deal, outcome: str, reason: str | None, actor: Actor) -> None:
    """A deal was won (``outcome="won"``) or lost (``"lost"``, with the ``reason`` given).
    Called in the closing transaction, after the deal's status is written."""


@hookspec
def opiekun_user_departed(session: Session, user: User, actor: Actor) -> None:
    """``user`` has just left (status set to ``departed``): they can no longer log in and
    their items stay where they are until transferred. Called in the same transaction."""


# --- a user's items (offboarding) ---------------------------------------------------------


@hookspec
def opiekun_user_items(user_id: int, include_closed: bool) -> Iterable[ItemCount]:
    """Count what the user owns or is responsible for, per item type the plugin knows
    (:class:`opiekun.plugin.ItemCount`). Counting only: change nothing."""


@hookspec
def opiekun_transfer_options() -> Iterable[TransferOption]:
    """The switches your plugin offers on every transfer of a user's items
    (:class:`~opiekun.plugin.TransferOption`: name, label, description, default). The
    offboarding form shows them, the API takes them in ``options`` (listed at
    ``GET /api/v1/offboarding/options``), and your transfer hooks read them from
    ``request.options`` — filled in with the defaults. Called when a transfer is planned;
    a switch of a plugin that is off is refused (422)."""


@hookspec
def opiekun_transfer_prepare(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """The first phase of a transfer step: judge the user's items **before anything moves**
    — which records go to someone else than ``request.to_user_id`` (ownership hands records
    with a deputy in force to that deputy), which rows of yours end because their record
    moves. Called on every enabled plugin, in the step's transaction, before any plugin's
    ``opiekun_transfer_user_items`` for the same step; whatever you move here is not moved
    again in the second phase (it is no longer the user's).

    Read your options from ``request.options`` (those your ``opiekun_transfer_options``
    declared). Return a :class:`~opiekun.plugin.TransferResult` per type and kind you
    moved, like ``opiekun_transfer_user_items``; keep what you move under
    ``request.transfer_id`` to put it back in ``opiekun_undo_transfer``."""


@hookspec
def opiekun_transfer_user_items(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """Move the user's items of the types in ``request.object_types`` that the plugin
    knows to ``request.to_user_id``, in set-based SQL. Return one
    :class:`~opiekun.plugin.TransferResult` per type (and kind) moved.

    - Change record columns with ``opiekun.plugin.update_records``: it emits the change
      events, so the history names the transfer (its change context) and offboarding can
      undo the move.
    - Honour ``request.include_closed`` and ``request.share`` (build the condition with
      ``opiekun.plugin.in_share``: a split hands each recipient a share in turn).
    - Be idempotent: an item already moved is not moved again (offboarding runs a step
      again after a crash), and move only what ``request.from_user_id`` still has.

    Offboarding calls the hook once per record type and recipient, each call in a
    transaction of its own that it commits. It is the second phase of the step: every
    plugin's ``opiekun_transfer_prepare`` has run before it, so the order between plugins
    here does not matter."""


@hookspec
def opiekun_undo_transfer(session: Session, request: UndoRequest) -> None:
    """Put back the rows of your own that your ``opiekun_transfer_user_items`` moved in
    transfer ``request.transfer_id`` (you kept them under ``TransferRequest.transfer_id``),
    to ``request.from_user_id`` — unless they changed since the transfer: those stay. Keep
    each row's outcome (:data:`~opiekun.plugin.UNDO_OUTCOMES`: ``restored``, or why it
    stayed), which ``opiekun_moved_items`` then shows.

    Record columns moved with ``update_records`` need nothing here: offboarding puts them
    back itself. Called once per undo, in the undo's transaction, with the undo's change
    context; judge each row once (a second call finds nothing left to undo)."""


@hookspec
def opiekun_moved_items(transfer_id: int) -> Select | None:
    """The rows of your own that transfer ``transfer_id`` moved (deputy periods…), as a
    SELECT with the columns of :data:`~opiekun.plugin.MOVED_ITEM_COLUMNS`, in that order
    and with those labels; ``None`` when you keep none. Offboarding lists them with the
    record fields it moved (every item of a transfer, or those undo kept, with the reason)
    and counts them per type, kind and outcome. Read only."""
