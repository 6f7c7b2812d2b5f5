"""The tasks in the admin panel: the task list (filters by responsible, type, status, due
day, overdue; only what the sharing rules let the user see), the task form, the page that
proposes the next tasks after one is done, and the configuration views (types, statuses
and their switch, templates, post-sale templates, sharing).

Views stay thin: saving, completing, deleting and sharing go through
:mod:`opiekun.plugins.tasks.services`, the same rules as the API.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual
from flask_admin.helpers import get_form_data
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from opiekun.admin.actions import BulkAction
from opiekun.admin.filters import OwnerIsFilter, YesNoFilter, with_live_options
from opiekun.admin.forms import AdminForm, active_users
from opiekun.admin.labels import user_label
from opiekun.admin.views import (
    OpiekunModelView,
    RecordView,
    attempt,
)
from opiekun.api.errors import Forbidden, NotFound
from opiekun.extensions import db
from opiekun.models import Pipeline, User, utcnow
from opiekun.permissions import has_permission
from opiekun.plugins.tasks.permissions import CONFIGURE, SHARE_OTHERS
from opiekun.plugins.tasks.services import configuration, next_tasks, sharing, task_lists, tasks, templates
from opiekun.plugins.tasks.services.visibility import Visibility, visible_task
from opiekun.plugins.tasks.models import (
    DELAY_FROM,
    DELAY_UNITS,
    NEXT_MODES,
    OUTCOMES,
    PRIORITIES,
    SHARING_LEVELS,
    PostSaleTemplate,
    Task,
    TaskShare,
    TaskStatus,
    TaskTemplate,
    TaskTemplateItem,
    TaskType,
)
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

TASKS_CATEGORY = _l("Tasks")
BUSY_LABEL = _l("Busy")

FIELD_LABELS = {
    "title": _l("Title"), "description": _l("Description"), "type": _l("Type"), "type_id": _l("Type"),
    "status": _l("Status"), "status_id": _l("Status"), "owner": _l("Responsible"), "responsible_id": _l("Responsible"),
    "participant_ids": _l("Participants"), "object_type": _l("Record type"), "object_id": _l("Record"),
    "due_date": _l("Due date"), "start": _l("Start"), "end": _l("End"), "priority": _l("Priority"),
    "private": _l("Private"), "reminders": _l("Reminders (minutes before)"), "done": _l("Done"), "done_at": _l("Done at"),
    "updated_at": _l("Updated"), "created_at": _l("Created"), "name": _l("Name"), "active": _l("Active"),
    "position": _l("Order"), "next_types": _l("Next task types"), "next_mode": _l("Next tasks"),
    "next_delay": _l("Delay"), "next_delay_unit": _l("Delay unit"), "next_delay_from": _l("Delay counted from"),
    "object_types": _l("Record types"), "items": _l("Tasks"), "delay_days": _l("Delay (days)"),
    "responsible": _l("Responsible"), "user": _l("User"), "pipeline": _l("Pipeline"), "outcome": _l("Outcome"),
    "template": _l("Template"), "grantee": _l("Shared with"), "task_type": _l("Task type (empty: all types)"),
    "level": _l("Level"),
    # the API's names of the same fields, as refusals name them
    "owner_id": _l("Whose tasks"), "grantee_id": _l("Shared with"), "task_type_id": _l("Task type (empty: all types)"),
    "pipeline_id": _l("Pipeline"), "template_id": _l("Template"),
}

VALUE_LABELS = {
    "low": _l("low"), "normal": _l("normal"), "high": _l("high"), "suggest": _l("propose"), "trigger": _l("create at once"),
    "days": _l("days"), "weeks": _l("weeks"), "months": _l("months"), "done": _l("completion"), "due": _l("the task's date"),
    "won": _l("won"), "lost": _l("lost"), "none": _l("none"), "free_busy": _l("free/busy"), "read": _l("read only"),
    "full": _l("full access"), "ask": _l("ask when applying"), "record_owner": _l("the record's owner"), "user": _l("a user"),
}


def choices_of(values) -> list[tuple[str, str]]:
    return [(value, str(VALUE_LABELS.get(value, value))) for value in values]


def templates_blueprint() -> Blueprint:
    """Makes the plugin's page templates (``opiekun_tasks/…``) findable."""
    return Blueprint("tasks_admin_templates", __name__, template_folder="templates")


def viewer() -> User:
    return current_user._get_current_object()


def visibility() -> Visibility:
    """The logged-in user's visibility, once per request."""
    if "tasks_visibility" not in g:
        g.tasks_visibility = Visibility.of(viewer())
    return g.tasks_visibility


def attempt_task_change(work):
    """The core's :func:`~opiekun.admin.views.attempt`, naming fields with the task labels."""
    return attempt(work, FIELD_LABELS)


# --- list filters --------------------------------------------------------------------------


class OverdueFilter(YesNoFilter):
    """Not done and due before today."""

    task_filter = "overdue"  # the services' name of the filter (its column is the due date)

    def condition(self, column):
        return (Task.done.is_(False)) & (column < utcnow().date())

    def opposite(self, column):
        return ~self.condition(column) | column.is_(None)


class DoneFilter(YesNoFilter):
    def condition(self, column):
        return column.is_(True)


def type_choices(active_only: bool = False) -> list[tuple[str, str]]:
    configuration.ensure_defaults()
    statement = select(TaskType).order_by(TaskType.position, TaskType.id)
    if active_only:
        statement = statement.where(TaskType.active.is_(True))
    return [(str(task_type.id), task_type.name) for task_type in db.session.scalars(statement)]


def status_choices() -> list[tuple[str, str]]:
    return [(str(status.id), status.name) for status in db.session.scalars(select(TaskStatus).order_by(TaskStatus.position))]


def record_type_choices() -> list[tuple[str, str]]:
    registry = current_app.extensions["opiekun.record_types"]
    return [(record_type.name, str(_l(record_type.label))) for record_type in registry if record_type.name != "task"]


# --- the task list and form ----------------------------------------------------------------


def redacted(formatter):
    """A column formatter that shows nothing of a free/busy task but that it is busy."""

    def format_column(view, context, model, name):
        if visibility().level_of(model) == "free_busy":
            return str(BUSY_LABEL) if name == "title" else ""
        return formatter(view, context, model, name)

    return format_column


def plain(view, context, model, name):
    value = getattr(model, name)
    return "" if value is None else value


def type_name(view, context, model, name):
    return model.type.name if model.type else ""


def status_name(view, context, model, name):
    return model.status.name if model.status else ""


def value_name(view, context, model, name):
    return str(VALUE_LABELS.get(getattr(model, name), getattr(model, name)))


def record_link(view, context, model, name):
    if not model.object_type:
        return ""
    record_type = current_app.extensions["opiekun.record_types"].get(model.object_type)
    if record_type is None:
        return f"{model.object_type} #{model.object_id}"
    record = db.session.get(record_type.model, model.object_id)
    label = f"{_l(record_type.label)}: {record.display_name if record else '#' + str(model.object_id)}"
    return Markup('<a href="{}">{}</a>').format(record_type.admin_url(model.object_id), label)


def responsible_name(view, context, model, name):
    return user_label(model.owner)


class RemindersField(StringField):
    """Reminders as minutes before the task's time, separated by commas ("15, 1440")."""

    def _value(self):
        return ", ".join(str(minutes) for minutes in self.data or [])

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        try:
            self.data = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            self.data = None
            raise ValueError(gettext("Give minutes as whole numbers separated by commas.")) from None
        if any(not 0 <= minutes <= 40320 for minutes in self.data) or len(self.data) > 10:
            raise ValueError(gettext("At most 10 reminders, each 0 to 40320 minutes before."))


def optional_int(value):
    return int(value) if value not in (None, "", "None", "__None") else None


class TaskForm(AdminForm):
    title = StringField(FIELD_LABELS["title"], validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(FIELD_LABELS["description"], validators=[Optional(), Length(max=5000)])
    type_id = SelectField(FIELD_LABELS["type_id"], coerce=int)
    status_id = SelectField(FIELD_LABELS["status_id"], coerce=optional_int, validate_choice=False)
    responsible_id = SelectField(FIELD_LABELS["responsible_id"], coerce=int)
    participant_ids = SelectMultipleField(FIELD_LABELS["participant_ids"], coerce=int)
    object_type = SelectField(FIELD_LABELS["object_type"], validate_choice=False)
    object_id = IntegerField(FIELD_LABELS["object_id"], validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    due_date = DateField(FIELD_LABELS["due_date"], validators=[Optional()])
    start = DateTimeLocalField(FIELD_LABELS["start"] + " (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    end = DateTimeLocalField(FIELD_LABELS["end"] + " (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    priority = SelectField(FIELD_LABELS["priority"], choices=lambda: choices_of(PRIORITIES), default="normal")
    private = BooleanField(FIELD_LABELS["private"])
    reminders = RemindersField(FIELD_LABELS["reminders"])
    done = BooleanField(FIELD_LABELS["done"])


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def form_values(form: TaskForm) -> dict[str, Any]:
    """The form as the API-shaped values the services take."""
    values = {
        "title": form.title.data.strip(), "description": (form.description.data or "").strip() or None,
        "type_id": form.type_id.data, "responsible_id": form.responsible_id.data,
        "participant_ids": list(form.participant_ids.data or []),
        "object_type": form.object_type.data or None, "object_id": form.object_id.data if form.object_type.data else None,
        "start": as_utc(form.start.data), "end": as_utc(form.end.data), "priority": form.priority.data,
        "private": bool(form.private.data), "reminders": form.reminders.data or [], "done": bool(form.done.data),
    }
    if configuration.settings()["statuses_enabled"]:
        values["status_id"] = form.status_id.data
    if form.due_date.data is not None or values["start"] is None:
        values["due_date"] = form.due_date.data
    return values


class TaskView(RecordView):
    """Tasks: the list shows only what the sharing rules let the user see (free/busy rows
    as "Busy"), the form saves through the services, completing proposes the next tasks."""

    column_list = ("title", "type", "status", "due_date", "start", "owner", "priority", "done", "object_type")
    column_details_list = ("title", "description", "type", "status", "owner", "participants", "object_type",
                           "due_date", "start", "end", "priority", "private", "reminders", "done", "done_at",
                           "created_at", "updated_at")
    column_sortable_list = ("title", "due_date", "start", "priority", "done", "updated_at")
    column_default_sort = ("due_date", False)
    column_searchable_list = ("title",)
    form = TaskForm
    list_template = "opiekun_tasks/task_list.html"

    def __init__(self, record_type):
        self.column_labels = {**FIELD_LABELS}
        self.column_formatters = {
            "title": redacted(plain), "type": redacted(type_name), "status": redacted(status_name),
            "priority": redacted(value_name), "done": redacted(plain), "object_type": redacted(record_link),
            "owner": responsible_name,
            "participants": lambda view, context, model, name: ", ".join(user_label(user) for user in model.participants),
        }
        self.column_formatters_export = {
            name: redacted(formatter) for name, formatter in
            {"title": plain, "type": type_name, "status": status_name, "priority": plain, "done": plain,
             "object_type": lambda view, context, model, name: f"{model.object_type or ''} {model.object_id or ''}".strip()}.items()
        } | {"owner": responsible_name}
        self.column_filters = [
            with_live_options(FilterEqual(Task.type_id, _l("Type")), type_choices),
            with_live_options(FilterEqual(Task.status_id, _l("Status")), status_choices),
            DateBetweenFilter(Task.due_date, _l("Due date")),
            OverdueFilter(Task.due_date, _l("Overdue")),
            DoneFilter(Task.done, _l("Done")),
            with_live_options(FilterEqual(Task.object_type, _l("Record type")), record_type_choices),
            FilterEqual(Task.object_id, _l("Record")),
        ]
        super().__init__(record_type)
        # the record views' owner filter, named for tasks: the owner is the responsible user
        self.column_filters = [OwnerIsFilter(Task.owner_id, _l("Responsible")),
                               *(flt for flt in self.column_filters if not isinstance(flt, OwnerIsFilter))]
        self._refresh_filters_cache()

    # --- what the user may see ---

    def scoped(self, query):
        min_level = "read" if g.get("tasks_detail_filter") else "free_busy"
        return query.filter(visibility().condition(min_level))

    def get_query(self):
        # participants are loaded with the rows: the CSV export formats them after the request
        return self.scoped(super().get_query()).options(selectinload(Task.participants))

    def get_count_query(self):
        return self.scoped(super().get_count_query())

    def get_list(self, page, sort_column, sort_desc, search, filters, *args, **kwargs):
        """Searching or filtering by what free/busy hides lists only readable tasks."""
        used = {self.task_filter_name(self._filters[index]) for index, _, _ in (filters or [])}
        if search:
            used.add("q")
        g.tasks_detail_filter = task_lists.filters_need_read(used)
        return super().get_list(page, sort_column, sort_desc, search, filters, *args, **kwargs)

    @staticmethod
    def task_filter_name(list_filter) -> str | None:
        """The :class:`~opiekun.plugins.tasks.services.task_lists.TaskFilters` name of a list filter."""
        column = getattr(list_filter, "column", None)
        return getattr(list_filter, "task_filter", None) or getattr(column, "key", None)

    def _order_by(self, query, joins, sort_joins, sort_field, sort_desc):
        """Sortable columns order as the services let the viewer sort (what a free/busy
        row hides never orders it)."""
        if sort_field is None:
            return query, joins
        return query.order_by(*task_lists.task_order(visibility(), sort_field.key, sort_desc)), joins

    def get_one(self, id):
        task = super().get_one(id)
        if task is None or visibility().level_of(task) not in ("read", "full"):
            return None
        return task

    def level(self, task: Task) -> str:
        return visibility().level_of(task)

    # --- the form ---

    def fill_choices(self, form: TaskForm, task: Task | None = None) -> TaskForm:
        form.type_id.choices = [(int(key), label) for key, label in type_choices(active_only=task is None)]
        form.status_id.choices = [("", "—"), *status_choices()]
        users = active_users()
        if task is not None and task.owner is not None and task.owner not in users:
            users = [task.owner, *users]
        form.responsible_id.choices = [(user.id, user_label(user)) for user in users]
        form.participant_ids.choices = [(user.id, user_label(user)) for user in active_users()]
        form.object_type.choices = [("", "—"), *record_type_choices()]
        if not configuration.settings()["statuses_enabled"]:
            del form.status_id
        return form

    def create_form(self, obj=None):
        form = self.fill_choices(self._create_form_class(get_form_data(), obj=obj))
        if request.method == "GET":
            form.responsible_id.data = current_user.id
            form.object_type.data = request.args.get("object_type", "")
            form.object_id.data = request.args.get("object_id", type=int)
        return form

    def edit_form(self, obj=None):
        return self.fill_choices(self._edit_form_class(get_form_data(), obj=obj), obj)

    def create_model(self, form):
        succeeded, task = attempt_task_change(lambda: tasks.create_task(viewer(), form_values(form)))
        return task if succeeded else False

    def update_model(self, form, model) -> bool:
        succeeded, change = attempt_task_change(lambda: tasks.update_task(viewer(), model.id, form_values(form)))
        if succeeded:
            self.announce_next(change)
        return succeeded

    def delete_model(self, model) -> bool:
        return attempt_task_change(lambda: tasks.delete_task(viewer(), model.id))[0]

    def announce_next(self, change: tasks.TaskChange) -> None:
        if change.proposed_next:
            url = url_for(".proposals_view", id=change.task.id)
            flash(Markup('{} <a class="btn btn-sm btn-primary" href="{}">{}</a>').format(
                gettext("Task done. Next tasks are proposed:") + " " + ", ".join(p.type_name for p in change.proposed_next),
                url, gettext("Review and add")), "info")
        elif change.created_next:
            flash(gettext("Task done; %(count)d next task(s) created.", count=len(change.created_next)), "info")

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Only tasks the user has full access to open for editing."""
        task = self.get_one(request.args.get("id", ""))
        if task is not None and self.level(task) == "read":
            flash(gettext("You can read this task but not change it."), "error")
            return redirect(url_for(".details_view", id=task.id))
        return super().edit_view()

    # --- completing and the next-task proposal ---

    @expose("/complete/", methods=("POST",))
    def complete_view(self):
        task_id = request.form.get("id", type=int) or 0
        succeeded, change = attempt_task_change(lambda: tasks.update_task(viewer(), task_id, {"done": True}))
        if not succeeded:
            return redirect(url_for(".index_view"))
        self.announce_next(change)
        if change.proposed_next:
            return redirect(url_for(".proposals_view", id=task_id))
        return redirect(url_for(".index_view"))

    @expose("/proposals/", methods=("GET", "POST"))
    def proposals_view(self):
        """The next tasks proposed after a task was done: accepted in one step."""
        task_id = request.args.get("id", type=int) or 0
        try:
            task, _ = visible_task(viewer(), task_id, "full")
        except (NotFound, Forbidden):
            abort(404)
        proposals = next_tasks.next_tasks(task, (task.done_at or utcnow()).date()) if task.done else []
        if request.method == "POST":
            chosen = set(request.form.getlist("accept"))

            def accept_chosen() -> list:
                created = []
                for index, proposal in enumerate(proposals):
                    if str(index) not in chosen:
                        continue
                    values = proposal.as_values()
                    values["title"] = (request.form.get(f"title_{index}") or proposal.title).strip()[:300] or proposal.title
                    day = request.form.get(f"due_date_{index}")
                    if day:
                        try:
                            values["due_date"] = dt.date.fromisoformat(day)
                        except ValueError:
                            raise ValidationError(gettext("Not a valid date: %(day)s", day=day)) from None
                    created.append(tasks.create_task(viewer(), values))
                return created

            succeeded, created = attempt_task_change(accept_chosen)
            if not succeeded:
                return redirect(url_for(".proposals_view", id=task_id))
            flash(gettext("%(count)d task(s) added.", count=len(created)), "success")
            return redirect(url_for(".index_view"))
        return self.render("opiekun_tasks/proposals.html", task=task, proposals=proposals)

    @expose("/on/<object_type>/<int:object_id>/")
    def record_tasks_view(self, object_type: str, object_id: int):
        """The tasks on one record: the list, filtered to it."""
        arguments = {}
        for index, list_filter in enumerate(self._filters or ()):
            if getattr(list_filter, "column", None) is Task.object_type and isinstance(list_filter, FilterEqual):
                arguments[f"flt0_{self.get_filter_arg(index, list_filter)}"] = object_type
            if getattr(list_filter, "column", None) is Task.object_id and isinstance(list_filter, FilterEqual):
                arguments[f"flt1_{self.get_filter_arg(index, list_filter)}"] = object_id
        return redirect(url_for(".index_view", **arguments))


def mark_done(record_type, ids: list[int]) -> str:
    """Bulk action: complete the selected tasks the user has full access to."""
    done, proposals = 0, []
    for task_id in ids:
        try:
            change = tasks.update_task(viewer(), task_id, {"done": True})
        except (Forbidden, NotFound):
            continue
        done += 1
        if change.proposed_next:
            proposals.append(change.task.id)
    message = gettext("%(count)d task(s) marked as done.", count=done)
    if proposals:
        links = Markup(", ").join(Markup('<a href="{}">#{}</a>').format(url_for("task.proposals_view", id=task_id), task_id)
                                  for task_id in proposals)
        return Markup("{} {} {}").format(message, gettext("Next tasks are proposed for:"), links)
    return message


MARK_DONE = BulkAction("tasks_mark_done", _l("Mark as done"), mark_done, confirmation=None)


def record_tasks_section(record_type, record) -> tuple[str, Markup]:
    """The tasks on one record, as the user may see them, for the record's admin page."""
    statement = (task_lists.visible_tasks(viewer(), task_lists.TaskFilters(object_type=record_type.name, object_id=record.id))
                 .order_by(Task.done, Task.due_date, Task.id).limit(50))
    rows = task_lists.seen(visibility(), db.session.scalars(statement).unique().all())
    items = Markup("").join(
        Markup('<li><a href="{}">{}</a> — {} {}</li>').format(
            url_for("task.details_view", id=row.task.id), row.task.title, row.task.type.name,
            row.task.due_date.isoformat() if row.task.due_date else "")
        for row in rows)
    add = url_for("task.create_view", object_type=record_type.name, object_id=record.id)
    body = Markup('<ul>{}</ul><a class="btn btn-sm btn-secondary" href="{}">{}</a> <a href="{}">{}</a>').format(
        items, add, gettext("Add a task"), url_for("task.record_tasks_view", object_type=record_type.name, object_id=record.id),
        gettext("All tasks on this record"))
    return str(_l("Tasks")), body


# --- configuration -------------------------------------------------------------------------


class ConfigurationView(OpiekunModelView):
    required_permission = CONFIGURE.name
    can_delete = False

    def __init__(self, model, name, endpoint):
        self.column_labels = FIELD_LABELS
        super().__init__(model, db, name=name, category=TASKS_CATEGORY, endpoint=endpoint)


def unique_name(model_class, model) -> None:
    other = db.session.scalar(select(model_class.id).where(model_class.name == model.name, model_class.id != model.id))
    if other is not None:
        raise ValidationError(gettext("The name is already used."))


class TaskTypeView(ConfigurationView):
    column_list = ("name", "active", "position", "next_types", "next_mode", "next_delay", "next_delay_unit", "next_delay_from")
    column_formatters = {"next_types": lambda v, c, m, n: ", ".join(t.name for t in m.next_types),
                         "next_mode": value_name, "next_delay_unit": value_name, "next_delay_from": value_name}
    form_columns = ("name", "active", "position", "next_types", "next_mode", "next_delay", "next_delay_unit", "next_delay_from")
    form_choices = {"next_mode": choices_of(NEXT_MODES), "next_delay_unit": choices_of(DELAY_UNITS),
                    "next_delay_from": choices_of(DELAY_FROM)}
    form_args = {"next_delay": {"validators": [NumberRange(min=0, max=3650)]},
                 "position": {"validators": [Optional(), NumberRange(min=0, max=100000)]}}

    def __init__(self):
        super().__init__(TaskType, _l("Task types"), "task_types")

    def get_query(self):
        configuration.ensure_defaults()
        return super().get_query()

    def on_model_change(self, form, model, is_created):
        unique_name(TaskType, model)
        if model.position is None:
            model.position = 0


class TaskStatusView(ConfigurationView):
    column_list = ("name", "active", "position")
    form_columns = ("name", "active", "position")
    form_args = {"position": {"validators": [Optional(), NumberRange(min=0, max=100000)]}}
    list_template = "opiekun_tasks/status_list.html"

    def __init__(self):
        super().__init__(TaskStatus, _l("Task statuses"), "task_statuses")

    def get_query(self):
        configuration.ensure_defaults()
        return super().get_query()

    def render(self, template, **kwargs):
        kwargs.setdefault("statuses_enabled", configuration.settings()["statuses_enabled"])
        return super().render(template, **kwargs)

    def on_model_change(self, form, model, is_created):
        unique_name(TaskStatus, model)
        if model.position is None:
            model.position = 0

    @expose("/switch/", methods=("POST",))
    def switch_view(self):
        """Switch task statuses on or off."""
        configuration.change_settings(viewer(), {"statuses_enabled": request.form.get("statuses_enabled") == "1"})
        db.session.commit()
        flash(gettext("Saved."), "success")
        return redirect(url_for(".index_view"))


class TaskTemplateView(ConfigurationView):
    can_delete = True
    column_list = ("name", "object_types", "items")
    column_formatters = {"object_types": lambda v, c, m, n: ", ".join(m.object_types or []),
                         "items": lambda v, c, m, n: "; ".join(f"{i.title} (+{i.delay_days})" for i in m.items)}
    form_columns = ("name", "object_types")
    form_overrides = {"object_types": SelectMultipleField}
    form_args = {"object_types": {"choices": record_type_choices}}
    inline_models = [(TaskTemplateItem, {
        "form_columns": ("id", "title", "type", "delay_days", "responsible", "user_id"),
        "column_labels": {**FIELD_LABELS, "user_id": _l("User (when responsible is a user)")},
        "form_choices": {"responsible": choices_of(("ask", "record_owner", "user"))},
        "form_args": {"delay_days": {"validators": [NumberRange(min=0, max=3650)]},
                      "user_id": {"validators": [Optional(), NumberRange(min=1, max=2**31 - 1)]}},
    })]

    def __init__(self):
        super().__init__(TaskTemplate, _l("Task templates"), "task_templates")

    def on_model_change(self, form, model, is_created):
        unique_name(TaskTemplate, model)
        with db.session.no_autoflush:
            for position, item in enumerate(model.items, start=1):
                item.position = position
                if item.responsible == "user":
                    status = db.session.scalar(select(User.status).where(User.id == item.user_id)) if item.user_id else None
                    if status != "active":
                        raise ValidationError(gettext("A task given to a user needs an active user's id."))
                else:
                    item.user_id = None


class PostSaleTemplateView(ConfigurationView):
    can_delete = True
    column_list = ("pipeline_id", "outcome", "template")
    form_columns = ("pipeline_id", "outcome", "template")
    form_choices = {"outcome": choices_of(OUTCOMES)}
    form_overrides = {"pipeline_id": SelectField}
    form_args = {"pipeline_id": {"label": _l("Pipeline"), "coerce": int,
                                 "choices": lambda: [(p.id, p.name) for p in db.session.scalars(select(Pipeline).order_by(Pipeline.name))]}}
    column_formatters = {"outcome": value_name}

    def __init__(self):
        super().__init__(PostSaleTemplate, _l("Post-sale templates"), "task_post_sale")

    def create_model(self, form):
        values = {"pipeline_id": form.pipeline_id.data, "outcome": form.outcome.data,
                  "template_id": form.template.data.id if form.template.data else 0}
        succeeded, post_sale = attempt_task_change(lambda: templates.save_post_sale(viewer(), values))
        return post_sale if succeeded else False

    def update_model(self, form, model):
        flash(gettext("Delete the post-sale template and add it again to change it."), "error")
        return False


class TaskShareView(OpiekunModelView):
    """How a user's tasks are shared: users manage their own, admins anyone's."""

    column_list = ("owner", "grantee", "task_type", "level")
    column_labels = {**FIELD_LABELS, "owner": _l("Whose tasks")}
    column_formatters = {"owner": lambda v, c, m, n: user_label(m.owner), "grantee": lambda v, c, m, n: user_label(m.grantee),
                         "level": value_name, "task_type": lambda v, c, m, n: m.task_type.name if m.task_type else gettext("all types")}
    form_columns = ("owner", "grantee", "task_type", "level")
    form_choices = {"level": choices_of(SHARING_LEVELS)}
    form_args = {"owner": {"query_factory": active_users, "get_label": user_label},
                 "grantee": {"query_factory": active_users, "get_label": user_label, "validators": [DataRequired()]},
                 "task_type": {"allow_blank": True, "blank_text": _l("(all types)")}}

    def __init__(self):
        super().__init__(TaskShare, db, name=_l("Task sharing"), category=TASKS_CATEGORY, endpoint="task_sharing")

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            form.owner.data = viewer()
        return form

    def mine(self, query):
        if has_permission(current_user, SHARE_OTHERS.name):
            return query
        return query.filter(TaskShare.owner_id == current_user.id)

    def get_query(self):
        return self.mine(super().get_query())

    def get_count_query(self):
        return self.mine(super().get_count_query())

    def get_one(self, id):
        share = super().get_one(id)
        if share is None or (share.owner_id != current_user.id and not has_permission(current_user, SHARE_OTHERS.name)):
            return None
        return share

    def save(self, form, previous: TaskShare | None):
        def replace_share() -> TaskShare:
            if previous is not None:
                sharing.delete_share(viewer(), previous.id)
            share, _ = sharing.set_share(viewer(), form.owner.data.id, form.grantee.data.id,
                                          form.task_type.data.id if form.task_type.data else None, form.level.data)
            return share

        succeeded, share = attempt_task_change(replace_share)
        return share if succeeded else False

    def create_model(self, form):
        return self.save(form, None)

    def update_model(self, form, model):
        return bool(self.save(form, model))

    def delete_model(self, model):
        return attempt_task_change(lambda: sharing.delete_share(viewer(), model.id))[0]


def configuration_views() -> list[BaseView]:
    return [TaskShareView(), TaskTypeView(), TaskStatusView(), TaskTemplateView(), PostSaleTemplateView()]

