"""Applying a task template to a record, from the record's page: the "Tasks" section
offers the templates for its record type (and who gets the items marked "ask when
applying"); the tasks are created by :func:`templates.apply_template`, as the API's
``POST /task-templates/<id>/apply`` creates them."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import select

from opiekun.plugin import RecordType, db, find_by_id, is_possible_id, may_change, record_types, user_label
from opiekun.plugin.admin import LoginRequired
from opiekun.plugins.tasks.admin.viewer import attempt_task_change, viewer
from opiekun.plugins.tasks.models import TaskTemplate
from opiekun.plugins.tasks.services import templates
from opiekun.plugins.tasks.services.tasks import assignable_users


def templates_for(record_type: RecordType) -> list[TaskTemplate]:
    """The templates that apply to ``record_type``, by name."""
    every = db.session.scalars(select(TaskTemplate).order_by(TaskTemplate.name)).all()
    return [template for template in every if record_type.name in (template.object_types or ())]


def apply_form(record_type: RecordType, record: Any) -> Markup:
    """The form under a record's tasks (empty for whom may not add tasks to the record, or
    when no template applies to its type)."""
    offered = templates_for(record_type)
    actor = viewer()
    if not offered or not may_change(actor, record_type, record, "update"):
        return Markup("")
    asked_types = {item.type_id for template in offered for item in template.items if item.responsible == "ask"}
    return Markup(
        render_template(
            "tasks/apply_template.html",
            offered=offered,
            users=assignable_users(actor, asked_types),
            user_label=user_label,
            action=url_for("task_apply_template.apply", object_type=record_type.name, object_id=record.id),
        )
    )


def form_id(value: str) -> int | None:
    """An id sent by a form (ASCII digits in the range of ids), or None."""
    return int(value) if value.isascii() and value.isdigit() and is_possible_id(int(value)) else None


class ApplyTemplateView(LoginRequired, BaseView):
    """Where the form posts (not in the menu)."""

    def __init__(self):
        super().__init__(name=_l("Apply a task template"), endpoint="task_apply_template")

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        """The form lives on record pages."""
        abort(404)

    @expose("/<object_type>/<int:object_id>/", methods=("POST",))
    def apply(self, object_type: str, object_id: int):
        """Create the template's tasks on the record; back to its page, saying how many."""
        record_type = record_types().get(object_type)
        record = find_by_id(record_type.model, object_id) if record_type is not None else None
        template_id = request.form.get("template_id", "")
        template = find_by_id(TaskTemplate, form_id(template_id)) if form_id(template_id) else None
        if record is None:
            abort(404)
        if template is None:
            flash(_("That task template no longer exists: choose another one."), "error")
            return redirect(record_type.admin_url(record.id))
        responsible = request.form.get("responsible_id", "")
        responsible_id = form_id(responsible)
        if responsible and responsible_id is None:
            abort(404)
        succeeded, created = attempt_task_change(
            lambda: templates.apply_template(viewer(), template, object_type, object_id, responsible_id)
        )
        if succeeded:
            flash(tasks_created_from(len(created), template.name), "success")
        return redirect(record_type.admin_url(record.id))


def tasks_created_from(count: int, template_name: str) -> str:
    """How many tasks a template created ("Utworzono 5 zadań z szablonu Nowy klient.")."""
    return ngettext(
        "%(num)d task created from the template %(name)s.",
        "%(num)d tasks created from the template %(name)s.",
        count,
        name=template_name,
    )
