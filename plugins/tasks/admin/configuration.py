"""Configuring tasks (holders of ``tasks.configure``): task types, statuses and their
switch, templates, post-sale templates; and the list of every configuration view."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import NumberRange, Optional, ValidationError

from opiekun.admin.views import OpiekunModelView
from opiekun.errors import Conflict
from opiekun.extensions import db
from opiekun.lookups import MAX_ID
from opiekun.models import Pipeline, User
from opiekun.plugins.tasks.admin.labels import FIELD_LABELS, TASKS_CATEGORY, choices_of, record_type_choices, value_name
from opiekun.plugins.tasks.admin.sharing import TaskShareView
from opiekun.plugins.tasks.admin.viewer import attempt_task_change, viewer
from opiekun.plugins.tasks.models import (
    DELAY_FROM,
    DELAY_UNITS,
    NEXT_MODES,
    OUTCOMES,
    PostSaleTemplate,
    TaskStatus,
    TaskTemplate,
    TaskTemplateItem,
    TaskType,
)
from opiekun.plugins.tasks.permissions import CONFIGURE
from opiekun.plugins.tasks.services import configuration, templates


class ConfigurationView(OpiekunModelView):
    """A configuration list of the tasks category (``tasks.configure``; nothing is deleted but templates)."""

    required_permission = CONFIGURE.name
    can_delete = False
    column_labels = FIELD_LABELS

    def __init__(self, model, name, endpoint):
        super().__init__(model, db, name=name, category=TASKS_CATEGORY, endpoint=endpoint)


def unique_name(model_class, model) -> None:
    """A form error when another row of ``model_class`` has the model's name: the service's
    rule (:func:`configuration.unique_name`, case-insensitive), asked before the new row is
    flushed, so that a row being created is never taken for the other one."""
    with db.session.no_autoflush:
        try:
            configuration.unique_name(model_class, model.name or "", model.id)
        except Conflict as error:
            raise ValidationError(gettext("The name is already used.")) from error


class TaskTypeView(ConfigurationView):
    """Task types and what follows each (the defaults exist from the first visit)."""

    column_list = (
        "name",
        "active",
        "position",
        "next_types",
        "next_mode",
        "next_delay",
        "next_delay_unit",
        "next_delay_from",
    )
    column_formatters = {
        "next_types": lambda view, context, model, name: ", ".join(next_type.name for next_type in model.next_types),
        "next_mode": value_name,
        "next_delay_unit": value_name,
        "next_delay_from": value_name,
    }
    form_columns = (
        "name",
        "active",
        "position",
        "next_types",
        "next_mode",
        "next_delay",
        "next_delay_unit",
        "next_delay_from",
    )
    form_choices = {
        "next_mode": choices_of(NEXT_MODES),
        "next_delay_unit": choices_of(DELAY_UNITS),
        "next_delay_from": choices_of(DELAY_FROM),
    }
    form_args = {
        "next_delay": {"validators": [NumberRange(min=0, max=3650)]},
        "position": {"validators": [Optional(), NumberRange(min=0, max=100000)]},
    }

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
    """Task statuses, with the switch that turns them on or off."""

    column_list = ("name", "active", "position")
    form_columns = ("name", "active", "position")
    form_args = {"position": {"validators": [Optional(), NumberRange(min=0, max=100000)]}}
    list_template = "tasks/status_list.html"

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
    """Task templates with their items (inline); an item given to a user needs an active one."""

    can_delete = True
    column_list = ("name", "object_types", "items")
    column_formatters = {
        "object_types": lambda view, context, model, name: ", ".join(model.object_types or []),
        "items": lambda view, context, model, name: "; ".join(
            f"{item.title} (+{item.delay_days})" for item in model.items
        ),
    }
    form_columns = ("name", "object_types")
    form_overrides = {"object_types": SelectMultipleField}
    form_args = {"object_types": {"choices": record_type_choices}}
    inline_models = [
        (
            TaskTemplateItem,
            {
                "form_columns": ("id", "title", "type", "delay_days", "responsible", "user_id"),
                "column_labels": {**FIELD_LABELS, "user_id": _l("User (when responsible is a user)")},
                "form_choices": {"responsible": choices_of(("ask", "record_owner", "user"))},
                "form_args": {
                    "delay_days": {"validators": [NumberRange(min=0, max=3650)]},
                    "user_id": {"validators": [Optional(), NumberRange(min=1, max=MAX_ID)]},
                },
            },
        )
    ]

    def __init__(self):
        super().__init__(TaskTemplate, _l("Task templates"), "task_templates")

    def on_model_change(self, form, model, is_created):
        unique_name(TaskTemplate, model)
        with db.session.no_autoflush:
            for position, item in enumerate(model.items, start=1):
                item.position = position
                if item.responsible == "user":
                    status = (
                        db.session.scalar(select(User.status).where(User.id == item.user_id)) if item.user_id else None
                    )
                    if status != "active":
                        raise ValidationError(gettext("A task given to a user needs an active user's id."))
                else:
                    item.user_id = None


def pipeline_choices() -> list[tuple[int, str]]:
    """The pipelines as choices, by name."""
    return [(pipeline.id, pipeline.name) for pipeline in db.session.scalars(select(Pipeline).order_by(Pipeline.name))]


class PostSaleTemplateView(ConfigurationView):
    """The template a pipeline's deals get when won or lost; saved through the services."""

    can_delete = True
    column_list = ("pipeline_id", "outcome", "template")
    form_columns = ("pipeline_id", "outcome", "template")
    form_choices = {"outcome": choices_of(OUTCOMES)}
    form_overrides = {"pipeline_id": SelectField}
    form_args = {"pipeline_id": {"label": _l("Pipeline"), "coerce": int, "choices": pipeline_choices}}
    column_formatters = {"outcome": value_name}

    def __init__(self):
        super().__init__(PostSaleTemplate, _l("Post-sale templates"), "task_post_sale")

    def create_model(self, form):
        values = {
            "pipeline_id": form.pipeline_id.data,
            "outcome": form.outcome.data,
            "template_id": form.template.data.id if form.template.data else 0,
        }
        succeeded, post_sale = attempt_task_change(lambda: templates.save_post_sale(viewer(), values))
        return post_sale if succeeded else False

    def update_model(self, form, model):
        flash(gettext("Delete the post-sale template and add it again to change it."), "error")
        return False


def configuration_views() -> list[BaseView]:
    """Every configuration view of the plugin, in menu order (sharing first)."""
    return [TaskShareView(), TaskTypeView(), TaskStatusView(), TaskTemplateView(), PostSaleTemplateView()]
