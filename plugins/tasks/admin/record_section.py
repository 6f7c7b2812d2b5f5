"""The "Tasks" section on a record's admin page: its tasks as the user may see them."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from opiekun.plugin import db
from opiekun.plugins.tasks.admin.apply_template import apply_form
from opiekun.plugins.tasks.admin.viewer import viewer, visibility
from opiekun.plugins.tasks.models import Task
from opiekun.plugins.tasks.services import task_lists


def record_tasks_section(record_type, record) -> tuple[str, Markup]:
    """The tasks on one record, as the user may see them, for the record's admin page."""
    statement = (
        task_lists.visible_tasks(viewer(), task_lists.TaskFilters(object_type=record_type.name, object_id=record.id))
        .order_by(Task.done, Task.due_date, Task.id)
        .limit(50)
    )
    rows = task_lists.seen(visibility(), db.session.scalars(statement).unique().all())
    items = Markup("").join(
        Markup('<li><a href="{}">{}</a> — {} {}</li>').format(
            url_for("task.details_view", id=row.task.id),
            row.task.title,
            row.task.type.name,
            row.task.due_date.isoformat() if row.task.due_date else "",
        )
        for row in rows
    )
    add = url_for("task.create_view", object_type=record_type.name, object_id=record.id)
    body = Markup('<ul>{}</ul><a class="btn btn-sm btn-secondary" href="{}">{}</a> <a href="{}">{}</a>').format(
        items,
        add,
        gettext("Add a task"),
        url_for("task.record_tasks_view", object_type=record_type.name, object_id=record.id),
        gettext("All tasks on this record"),
    )
    return str(_l("Tasks")), body + apply_form(record_type, record)
