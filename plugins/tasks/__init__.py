"""Tasks: task types, optional statuses, next-task proposals, templates with delays,
post-sale templates fired when deals close, sharing of a user's tasks at four levels, and
an iCalendar feed.

The module is imported even when the plugin is off (to read ``MANIFEST``), so it imports
nothing that declares tables: each hook imports the plugin's modules in its body, and a
disabled plugin leaves no table, route, admin view, permission or job.

A task is a record type (``task``) whose ``owner_id`` is the responsible user (stored, and
named in the API, as ``responsible_id``): the core's change stream (and so audit) sees
every change of its columns; participants added or removed are ``participant_added`` /
``participant_removed`` events. The type is registered with ``owner_items=False`` because
this plugin answers the "items of a user" hooks for tasks itself (responsible for,
open/done). The plugin's design is in its ``README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opiekun.plugin import VERSION, PluginManifest, hookimpl

if TYPE_CHECKING:
    from flask import Blueprint
    from flask_admin import Admin, BaseView
    from sqlalchemy.orm import Session

    from opiekun.plugin import (
        Actor,
        ChangeSet,
        Deal,
        DemoContext,
        ItemCount,
        JobDefinition,
        Message,
        Permission,
        PluginGap,
        RecordType,
        Schedule,
        TransferRequest,
        TransferResult,
        User,
    )
    from opiekun.plugin.admin import BulkAction, HomePanel

#: Built in: the plugin's version is the one of the ``opiekun`` package it ships with.
MANIFEST = PluginManifest(
    name="tasks",
    version=VERSION,
    summary="Tasks: types, statuses, next-task proposals, templates, sharing and calendar feeds",
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


# --- schema -------------------------------------------------------------------------------


@hookimpl
def opiekun_models() -> Iterable[type]:
    """The plugin's tables (declared by importing the models here, and only here)."""
    from opiekun.plugins.tasks import models

    return [
        models.TaskType,
        models.TaskStatus,
        models.Task,
        models.TaskReminder,
        models.TaskShare,
        models.TaskTemplate,
        models.TaskTemplateItem,
        models.PostSaleTemplate,
        models.CalendarKey,
    ]


@hookimpl
def opiekun_migrations_dir() -> str:
    """The branch ``tasks`` (first revision ``tasks_0001``, on top of ``core_0001``)."""
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_record_types() -> Iterable[RecordType]:
    """Register ``task``: the change stream sees it, it has an admin list; its API is the
    plugin's own (sharing rules apply), not the generic record API."""
    from opiekun.plugin import RecordType
    from opiekun.plugins.tasks.admin.task_view import TaskView
    from opiekun.plugins.tasks.models import Task

    return [
        RecordType(
            "task",
            Task,
            "Task",
            "Tasks",
            "tasks",
            api=None,
            closed=lambda: Task.done.is_(True),
            search_columns=("title",),
            admin_view=TaskView,
            owner_items=False,
        )
    ]


# --- surfaces -----------------------------------------------------------------------------


@hookimpl
def opiekun_blueprints() -> Iterable[Blueprint]:
    """``/api/v1/tasks…``, ``/api/v1/task-…`` and the feed ``/calendar/<user id>.ics``."""
    from opiekun.plugins.tasks.api import blueprints

    return blueprints()


@hookimpl
def opiekun_admin_views(admin: Admin) -> Iterable[BaseView]:
    """Task types, statuses, settings, templates, post-sale templates, sharing; the pages
    behind the calendar link's "new address" and a record's "Apply the template"."""
    from opiekun.plugins.tasks.admin.apply_template import ApplyTemplateView
    from opiekun.plugins.tasks.admin.calendar_link import CalendarLinkView
    from opiekun.plugins.tasks.admin.configuration import configuration_views

    return [*configuration_views(), CalendarLinkView(), ApplyTemplateView()]


@hookimpl
def opiekun_admin_user_sections(user: User) -> Iterable[tuple[str, str]]:
    """On the user's own page ("My account"): their calendar link, to copy or replace."""
    from opiekun.plugins.tasks.admin.calendar_link import calendar_section

    return calendar_section(user)


@hookimpl
def opiekun_admin_home_panels(user: User) -> Iterable[HomePanel]:
    """The start page: my tasks today and overdue, tasks shared with me; for the team, the
    overdue tasks per responsible user."""
    from opiekun.plugins.tasks.admin.home_panels import home_panels

    return home_panels(user)


@hookimpl
def opiekun_admin_bulk_actions(record_type: RecordType) -> Iterable[BulkAction]:
    """ "Mark as done" on the task list (only tasks the user has full access to)."""
    if record_type.name != "task":
        return []
    from opiekun.plugins.tasks.admin.task_view import MARK_DONE

    return [MARK_DONE]


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    """Admins hold all four; managers may create tasks for others by default."""
    from opiekun.plugins.tasks.permissions import ALL

    return ALL


@hookimpl
def opiekun_jobs() -> Iterable[JobDefinition]:
    """``tasks.send_reminders``: notify users of reminders that are due."""
    from opiekun.plugins.tasks.jobs import JOBS

    return JOBS


@hookimpl
def opiekun_schedules() -> Iterable[Schedule]:
    """Reminders are checked every minute."""
    from opiekun.plugins.tasks.jobs import SCHEDULES

    return SCHEDULES


@hookimpl
def opiekun_demo_data(context: DemoContext) -> None:
    """A few tasks per demo user, a template and a post-sale template."""
    from opiekun.plugins.tasks.demo import add_demo_tasks

    add_demo_tasks(context)


# --- records ------------------------------------------------------------------------------


@hookimpl
def opiekun_record_access(user: User, record_type: RecordType, record: Any, action: str) -> bool | None:
    """Changing or deleting a task (e.g. by another plugin's bulk action) needs full
    access to it under the sharing rules; no opinion on other record types."""
    if record_type.name != "task":
        return None
    from opiekun.plugins.tasks.services.visibility import Visibility

    return Visibility.of(user).level_of(record) == "full"


@hookimpl
def opiekun_records_changed(session: Session, change_set: ChangeSet) -> None:
    """A deleted record's tasks stay, on no record (one set-based UPDATE per type)."""
    deleted: dict[str, list[int]] = {}
    for change in change_set.records:
        if change.operation == "delete" and change.object_type != "task":
            deleted.setdefault(change.object_type, []).append(change.object_id)
    if deleted:
        from opiekun.plugins.tasks.services.tasks import detach_from_deleted_records

        detach_from_deleted_records(session, deleted)


@hookimpl
def opiekun_plugin_resumed(session: Session, gap: PluginGap) -> Iterable[Message]:
    """Back after a time off: tasks of records deleted meanwhile stay, on no record (as
    when the plugin hears of a deletion)."""
    from opiekun.plugin import PluralMessage
    from opiekun.plugins.tasks.services.tasks import detach_from_missing_records

    detached = detach_from_missing_records(session)
    if not detached:
        return []
    return [
        PluralMessage(
            "%(num)d task of records deleted meanwhile kept on no record",
            "%(num)d tasks of records deleted meanwhile kept on no record",
            detached,
        )
    ]


@hookimpl
def opiekun_deal_closed(session: Session, deal: Deal, outcome: str, reason: str | None, actor: Actor) -> None:
    """Apply the pipeline's post-sale template for ``outcome``: the tasks land on the deal."""
    from opiekun.plugins.tasks.services.templates import deal_closed

    deal_closed(deal, outcome)


# --- a user's items (offboarding) ---------------------------------------------------------


@hookimpl
def opiekun_user_items(user_id: int, include_closed: bool) -> Iterable[ItemCount]:
    """Tasks the user is responsible for: open ones and done ones."""
    from opiekun.plugin import ItemCount
    from opiekun.plugins.tasks.services.user_items import count_user_tasks

    open_count, done_count = count_user_tasks(user_id)
    return [ItemCount("task", "Tasks", open_count, done_count if include_closed else 0, kind="responsible")]


@hookimpl
def opiekun_transfer_user_items(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """Give the user's tasks (done ones too when ``include_closed``) to the recipient:
    one set-based UPDATE of the responsible user, with change events."""
    if "task" not in request.object_types:
        return []
    from opiekun.plugin import TransferResult
    from opiekun.plugins.tasks.services.user_items import transfer_user_tasks

    moved = transfer_user_tasks(
        session, request.from_user_id, request.to_user_id, request.include_closed, request.share
    )
    return [TransferResult("task", moved, kind="responsible")]


@hookimpl
def opiekun_admin_record_sections(record_type: RecordType, record: Any) -> Iterable[tuple[str, str]]:
    """The tasks on the record (as the user may see them), with a link to add one."""
    if record_type.name == "task":
        return []
    from opiekun.plugins.tasks.admin.record_section import record_tasks_section

    return [record_tasks_section(record_type, record)]
