"""What the task list shows and filters by: columns that show nothing of a free/busy task
but that it is busy, and the filters the record views do not have."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from opiekun.plugin import db, user_label
from opiekun.plugin.admin import YesNoFilter, user_today
from opiekun.plugins.tasks.admin.labels import BUSY_LABEL
from opiekun.plugins.tasks.admin.viewer import visibility
from opiekun.plugins.tasks.models import Task

# --- list filters --------------------------------------------------------------------------


class OverdueFilter(YesNoFilter):
    """Not done and due before today."""

    task_filter = "overdue"  # the services' name of the filter (its column is the due date)

    def condition(self, column):
        return (Task.done.is_(False)) & (column < user_today())

    def opposite(self, column):
        return ~self.condition(column) | column.is_(None)


class DoneFilter(YesNoFilter):
    """Done, or not."""

    def condition(self, column):
        return column.is_(True)


# --- columns -------------------------------------------------------------------------------


def redacted(formatter):
    """A column formatter that shows nothing of a free/busy task but that it is busy."""

    def format_column(view, context, model, name):
        if visibility().level_of(model) == "free_busy":
            return str(BUSY_LABEL) if name == "title" else ""
        return formatter(view, context, model, name)

    return format_column


def plain(view, context, model, name):
    """A column formatter: the value, empty for none."""
    value = getattr(model, name)
    return "" if value is None else value


def type_name(view, context, model, name):
    """A column formatter: the task type's name."""
    return model.type.name if model.type else ""


def status_name(view, context, model, name):
    """A column formatter: the status's name (empty without one)."""
    return model.status.name if model.status else ""


def record_link(view, context, model, name):
    """A column formatter: a link to the record the task is on."""
    if not model.object_type:
        return ""
    record_type = current_app.extensions["opiekun.record_types"].get(model.object_type)
    if record_type is None:
        return f"{model.object_type} #{model.object_id}"
    record = db.session.get(record_type.model, model.object_id)
    label = f"{_l(record_type.label)}: {record.display_name if record else '#' + str(model.object_id)}"
    return Markup('<a href="{}">{}</a>').format(record_type.admin_url(model.object_id), label)


def responsible_name(view, context, model, name):
    """A column formatter: the responsible user's name."""
    return user_label(model.owner)
