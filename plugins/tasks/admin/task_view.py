"""The task list and its pages: only what the sharing rules let the user see (free/busy
rows as "Busy"), the form saving through the services, completing proposing the next
tasks, and the "Mark as done" bulk action."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_admin.helpers import get_form_data
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms.validators import ValidationError

from opiekun.plugin import NotFound, Refused, user_label
from opiekun.plugin.admin import (
    BulkAction,
    DateBetweenFilter,
    EmptyFilter,
    OwnerDepartedFilter,
    OwnerIsFilter,
    RecordView,
    active_users,
    date_or_none,
    with_live_options,
)
from opiekun.plugins.tasks.admin.labels import (
    FIELD_LABELS,
    record_type_choices,
    status_choices,
    type_choices,
    value_name,
)
from opiekun.plugins.tasks.admin.task_columns import (
    DoneFilter,
    OverdueFilter,
    plain,
    record_link,
    redacted,
    responsible_name,
    status_name,
    type_name,
)
from opiekun.plugins.tasks.admin.task_form import TaskForm, form_values
from opiekun.plugins.tasks.admin.viewer import attempt_task_change, viewer, visibility
from opiekun.plugins.tasks.models import Task
from opiekun.plugins.tasks.services import configuration, next_tasks, task_lists, tasks
from opiekun.plugins.tasks.services.visibility import visible_task


class TaskView(RecordView):
    """Tasks: the list shows only what the sharing rules let the user see (free/busy rows
    as "Busy"), the form saves through the services, completing proposes the next tasks."""

    column_list = ("title", "type", "status", "due_date", "start", "owner", "priority", "done", "object_type")
    column_details_list = (
        "title",
        "description",
        "type",
        "status",
        "owner",
        "participants",
        "object_type",
        "due_date",
        "start",
        "end",
        "priority",
        "private",
        "reminders",
        "done",
        "done_at",
        "created_at",
        "updated_at",
    )
    column_sortable_list = ("title", "due_date", "start", "priority", "done", "updated_at")
    column_default_sort = ("due_date", False)
    column_searchable_list = ("title",)
    form = TaskForm
    list_template = "tasks/task_list.html"

    column_labels = FIELD_LABELS
    column_formatters = {
        "title": redacted(plain),
        "type": redacted(type_name),
        "status": redacted(status_name),
        "priority": redacted(value_name),
        "done": redacted(plain),
        "object_type": redacted(record_link),
        "owner": responsible_name,
        "participants": lambda view, context, model, name: ", ".join(user_label(user) for user in model.participants),
    }
    column_formatters_export = {
        name: redacted(formatter)
        for name, formatter in {
            "title": plain,
            "type": type_name,
            "status": status_name,
            "priority": plain,
            "done": plain,
            "object_type": lambda view, context, model, name: (
                f"{model.object_type or ''} {model.object_id or ''}".strip()
            ),
        }.items()
    } | {"owner": responsible_name}
    #: the task's own filters, after the record views' ones
    column_filters = (
        with_live_options(FilterEqual(Task.type_id, _l("Type")), type_choices),
        with_live_options(FilterEqual(Task.status_id, _l("Status")), status_choices),
        DateBetweenFilter(Task.due_date, _l("Due date")),
        OverdueFilter(Task.due_date, _l("Overdue")),
        DoneFilter(Task.done, _l("Done")),
        with_live_options(FilterEqual(Task.object_type, _l("Record type")), record_type_choices),
        IntEqualFilter(Task.object_id, _l("Record")),  # an integer column: PostgreSQL compares no text with it
    )

    #: The record views' owner filters, named for tasks: the owner is the responsible user.
    RESPONSIBLE_FILTERS = {
        OwnerIsFilter: _l("Responsible"),
        EmptyFilter: _l("No responsible user"),
        OwnerDepartedFilter: _l("Responsible user has departed"),
    }

    def get_filters(self):
        """The record views' filters and the task's own, with the owner's filters named for
        tasks ("Odpowiedzialny", not "Opiekun")."""
        return [
            self.handle_filter(type(flt)(Task.owner_id, self.RESPONSIBLE_FILTERS[type(flt)]))
            if type(flt) in self.RESPONSIBLE_FILTERS and getattr(flt, "column", None) is Task.owner_id
            else flt
            for flt in super().get_filters()
        ]

    # --- what the user may see ---

    def scoped(self, query):
        """``query`` limited to the tasks the viewer may see (may read, when a filter looks at details)."""
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
        """The viewer's level on ``task`` (templates show the Done button for ``full``)."""
        return visibility().level_of(task)

    def row_actions_for(self, task: Task, actions: list) -> list:
        """The row's icons the viewer may use: all with full access, only "view" with read
        access, none on a free/busy row (it opens nothing)."""
        level = self.level(task)
        if level == "full":
            return actions
        if level == "read":
            return [action for action in actions if getattr(action, "template_name", "").startswith("row_actions.view")]
        return []

    # --- the form ---

    def fill_choices(self, form: TaskForm, task: Task | None = None) -> TaskForm:
        """The form's choices: types, statuses (when on), users, record types."""
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
        """Flash what completing a task proposed or created."""
        if change.proposed_next:
            url = url_for(".proposals_view", id=change.task.id)
            proposed = ", ".join(proposal.type_name for proposal in change.proposed_next)
            flash(
                Markup('{} <a class="btn btn-sm btn-primary" href="{}">{}</a>').format(
                    gettext("Task done. Next tasks are proposed:") + " " + proposed, url, gettext("Review and add")
                ),
                "info",
            )
        elif change.created_next:
            flash(next_tasks_created(len(change.created_next)), "info")

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
        """Mark one task as done (the list's Done button)."""
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
        except (NotFound, Refused):
            abort(404)
        proposals = next_tasks.next_tasks(task, next_tasks.done_day(task)) if task.done else []
        if request.method == "POST":
            chosen = set(request.form.getlist("accept"))

            def accept_chosen() -> list:
                created = []
                for index, proposal in enumerate(proposals):
                    if str(index) not in chosen:
                        continue
                    values = proposal.as_values()
                    values["title"] = (request.form.get(f"title_{index}") or proposal.title).strip()[
                        :300
                    ] or proposal.title
                    day = request.form.get(f"due_date_{index}")
                    if day:
                        values["due_date"] = date_or_none(day)
                        if values["due_date"] is None:
                            raise ValidationError(gettext("Not a valid date: %(day)s", day=day))
                    created.append(tasks.create_task(viewer(), values))
                return created

            succeeded, created = attempt_task_change(accept_chosen)
            if not succeeded:
                return redirect(url_for(".proposals_view", id=task_id))
            flash(tasks_added(len(created)), "success")
            return redirect(url_for(".index_view"))
        return self.render("tasks/proposals.html", task=task, proposals=proposals)

    @expose("/on/<object_type>/<int:object_id>/")
    def record_tasks_view(self, object_type: str, object_id: int):
        """The tasks on one record: the list, filtered to it."""
        return redirect(self.filtered_url(("object_type", object_type), ("object_id", object_id)))


# --- what the views say, in the user's language and its plural forms -----------------------


def next_tasks_created(count: int) -> str:
    """After a task was done: how many next tasks its type created ("utworzono 2 kolejne zadania")."""
    return ngettext("Task done; %(num)d next task created.", "Task done; %(num)d next tasks created.", count)


def tasks_added(count: int) -> str:
    """How many proposed tasks were added ("Dodano 5 zadań.")."""
    return ngettext("%(num)d task added.", "%(num)d tasks added.", count)


def tasks_marked_done(count: int) -> str:
    """How many tasks "Mark as done" completed ("Oznaczono 2 zadania jako wykonane.")."""
    return ngettext("%(num)d task marked as done.", "%(num)d tasks marked as done.", count)


def mark_done(record_type, ids: list[int]) -> str:
    """Bulk action: complete the selected tasks the user has full access to."""
    done, proposals = 0, []
    for task_id in ids:
        try:
            change = tasks.update_task(viewer(), task_id, {"done": True})
        except (Refused, NotFound):
            continue
        done += 1
        if change.proposed_next:
            proposals.append(change.task.id)
    message = tasks_marked_done(done)
    if proposals:
        links = Markup(", ").join(
            Markup('<a href="{}">#{}</a>').format(url_for("task.proposals_view", id=task_id), task_id)
            for task_id in proposals
        )
        return Markup("{} {} {}").format(message, gettext("Next tasks are proposed for:"), links)
    return message


MARK_DONE = BulkAction("tasks_mark_done", _l("Mark as done"), mark_done, confirmation=None)
