"""Configuring tasks (holders of ``tasks.configure``): task types, statuses and their
switch, templates, post-sale templates; and the list of every configuration view."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import NumberRange, Optional

from opiekun.plugin import MAX_ID, Pipeline, User, db, record_types_label, translated
from opiekun.plugin.admin import OpiekunModelView
from opiekun.plugins.tasks.admin.labels import (
    FIELD_LABELS,
    TASKS_CATEGORY,
    choices_of,
    record_type_choices,
    value_name,
)
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
    """A configuration list of the tasks category (``tasks.configure``; nothing is deleted
    but templates). Views with a :attr:`save` service create and change rows through it,
    as the API does: the form's values go to the service, which holds every rule."""

    required_permission = CONFIGURE.name
    can_delete = False
    column_labels = FIELD_LABELS

    def __init__(self, model, name, endpoint):
        super().__init__(model, db, name=name, category=TASKS_CATEGORY, endpoint=endpoint)

    @staticmethod
    def save(actor: User, row, values: dict[str, Any]):
        """The service saving a row (``row`` None: a new one); subclasses name theirs."""
        raise NotImplementedError

    def service_values(self, form) -> dict[str, Any]:
        """The form's values as the service takes them (the fields' data by default)."""
        return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}

    def create_model(self, form):
        succeeded, row = attempt_task_change(lambda: self.save(viewer(), None, self.service_values(form)))
        return row if succeeded else False

    def update_model(self, form, model) -> bool:
        succeeded, _ = attempt_task_change(lambda: self.save(viewer(), model, self.service_values(form)))
        return succeeded


def without_empty_position(values: dict[str, Any]) -> dict[str, Any]:
    """An empty position is left to the service (a new row goes last; a changed one stays)."""
    if values.get("position") is None:
        values.pop("position", None)
    return values


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

    save = staticmethod(configuration.save_task_type)

    def service_values(self, form) -> dict[str, Any]:
        values = super().service_values(form)
        values["next_type_ids"] = [next_type.id for next_type in values.pop("next_types") or ()]
        return without_empty_position(values)


class TaskStatusView(ConfigurationView):
    """Task statuses, with the switch that turns them on or off."""

    column_list = ("name", "active", "position")
    form_columns = ("name", "active", "position")
    form_args = {"position": {"validators": [Optional(), NumberRange(min=0, max=100000)]}}
    list_template = "tasks/status_list.html"

    def __init__(self):
        super().__init__(TaskStatus, _l("Task statuses"), "task_statuses")

    def render(self, template, **kwargs):
        kwargs.setdefault("statuses_enabled", configuration.settings()["statuses_enabled"])
        return super().render(template, **kwargs)

    save = staticmethod(configuration.save_task_status)

    def service_values(self, form) -> dict[str, Any]:
        return without_empty_position(super().service_values(form))

    @expose("/switch/", methods=("POST",))
    def switch_view(self):
        """Switch task statuses on or off."""
        configuration.change_settings(viewer(), {"statuses_enabled": request.form.get("statuses_enabled") == "1"})
        db.session.commit()
        flash(gettext("Saved."), "success")
        return redirect(url_for(".index_view"))


def template_item_text(item: TaskTemplateItem) -> str:
    """A template's item in the list: its title and when it is due ("Telefon (+2 dni)")."""
    return ngettext("%(title)s (+%(num)d day)", "%(title)s (+%(num)d days)", item.delay_days or 0, title=item.title)


class TaskTemplateView(ConfigurationView):
    """Task templates with their items (inline); an item given to a user needs an active one."""

    can_delete = True
    column_list = ("name", "object_types", "items")
    column_formatters = {
        "object_types": lambda view, context, model, name: translated(record_types_label(model.object_types or ())),
        "items": lambda view, context, model, name: "; ".join(template_item_text(item) for item in model.items),
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

    save = staticmethod(templates.save_template)

    def service_values(self, form) -> dict[str, Any]:
        """The name, record types and the items kept (those not ticked for deletion)."""
        items = [
            {
                "title": entry.form.title.data,
                "type_id": entry.form.type.data.id if entry.form.type.data else 0,
                "delay_days": entry.form.delay_days.data,
                "responsible": entry.form.user_id.data or 0
                if entry.form.responsible.data == "user"
                else entry.form.responsible.data,
            }
            for entry in form.items.entries
            if not form.items.should_delete(entry)
        ]
        return {"name": form.name.data, "object_types": form.object_types.data or [], "items": items}


def pipeline_choices() -> list[tuple[int, str]]:
    """The pipelines as choices, by name."""
    return [(pipeline.id, pipeline.name) for pipeline in db.session.scalars(select(Pipeline).order_by(Pipeline.name))]


def pipeline_name(post_sale: PostSaleTemplate) -> str:
    """The pipeline of a post-sale template, by name (not its id)."""
    pipeline = db.session.get(Pipeline, post_sale.pipeline_id)
    return pipeline.name if pipeline is not None else str(post_sale.pipeline_id)


class PostSaleTemplateView(ConfigurationView):
    """The template a pipeline's deals get when won or lost; saved through the services."""

    can_delete = True
    column_list = ("pipeline_id", "outcome", "template")
    form_columns = ("pipeline_id", "outcome", "template")
    form_choices = {"outcome": choices_of(OUTCOMES)}
    form_overrides = {"pipeline_id": SelectField}
    form_args = {"pipeline_id": {"label": _l("Pipeline"), "coerce": int, "choices": pipeline_choices}}
    column_formatters = {"outcome": value_name, "pipeline_id": lambda view, context, model, name: pipeline_name(model)}

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
