"""Administracja → Webhooki: the endpoints (register, change, switch on, pause, a new
secret) and the delivery log (filter by endpoint and status, send again). Holders of
``webhooks.manage`` only; every change goes through
:mod:`~opiekun.plugins.webhooks.endpoints`, as the API's do."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from opiekun.plugin import db, record_types
from opiekun.plugin.admin import ADMINISTRATION_CATEGORY, AdminForm, OpiekunModelView, attempt, with_live_options
from opiekun.plugins.webhooks import endpoints
from opiekun.plugins.webhooks.models import DELIVERY_STATUSES, STATUSES, WebhookDelivery, WebhookEndpoint
from opiekun.plugins.webhooks.permissions import MANAGE

STATUS_LABELS = {
    "active": _l("active"),
    "paused": _l("paused"),
    "failing": _l("switched off after failures"),
    "retrying": _l("waiting for a retry"),
    "delivered": _l("delivered"),
    "failed": _l("not delivered"),
}
OPERATION_LABELS = {"create": _l("created"), "update": _l("changed"), "delete": _l("deleted")}
LABELS = {
    "name": _l("Name"),
    "url": _l("Address (URL)"),
    "record_types": _l("Record types"),
    "operations": _l("Operations"),
    "status": _l("Status"),
    "failures": _l("Failed attempts"),
    "last_error": _l("Last error"),
    "next_attempt_at": _l("Next attempt"),
    "delivered_up_to": _l("Acknowledged up to event"),
    "created_at": _l("Created"),
    "secret": _l("Signing secret"),
    "endpoint": _l("Endpoint"),
    "key": _l("Idempotency key"),
    "first_event_id": _l("First event"),
    "last_event_id": _l("Last event"),
    "event_count": _l("Events"),
    "attempts": _l("Attempts"),
    "response_status": _l("HTTP status"),
    "duration_ms": _l("Time (ms)"),
    "attempted_at": _l("Last attempt"),
    "delivered_at": _l("Delivered"),
    "disabled_at": _l("Switched off"),
}


def record_type_choices() -> list[tuple[str, str]]:
    return [(record_type.name, gettext(record_type.label_plural)) for record_type in record_types()]


def endpoint_choices() -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in db.session.execute(select(WebhookEndpoint.id, WebhookEndpoint.name))]


def operation_choices() -> list[tuple[str, str]]:
    return [(name, str(OPERATION_LABELS.get(name, name))) for name in endpoints.known_operations()]


class EndpointForm(AdminForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=2000)])
    record_types = SelectMultipleField(
        _l("Record types (none ticked: every type)"), choices=record_type_choices, validate_choice=True
    )
    operations = SelectMultipleField(
        _l("Operations (none ticked: every operation)"), choices=operation_choices, validate_choice=True
    )


def status_filter(column, statuses: tuple[str, ...]) -> FilterEqual:
    """A list filter "Status" offering ``statuses`` by their labels."""
    return FilterEqual(column, _l("Status"), options=[(status, STATUS_LABELS[status]) for status in statuses])


def _status(view, context, model, name) -> str:
    return str(STATUS_LABELS.get(getattr(model, name), getattr(model, name)))


def _type_names(view, context, model, name) -> str:
    labels = dict(record_type_choices())
    return ", ".join(labels.get(kind, kind) for kind in model.record_types) or gettext("every type")


def _operation_names(view, context, model, name) -> str:
    return ", ".join(str(OPERATION_LABELS.get(kind, kind)) for kind in model.operations) or gettext("every operation")


def _endpoint_link(view, context, model, name):
    endpoint = model.endpoint
    return Markup('<a href="{}">{}</a>').format(
        url_for("webhook_endpoints.details_view", id=endpoint.id), endpoint.name
    )


class EndpointView(OpiekunModelView):
    """The endpoints; the details page shows the secret and the buttons that switch an
    endpoint on, pause it or give it a new secret."""

    required_permission = MANAGE.name
    can_view_details = True
    column_list = ("name", "url", "record_types", "operations", "status", "failures", "last_error", "created_at")
    column_details_list = (
        "name",
        "url",
        "record_types",
        "operations",
        "status",
        "failures",
        "next_attempt_at",
        "last_error",
        "disabled_at",
        "delivered_up_to",
        "created_at",
        "secret",
    )
    column_labels = LABELS
    column_searchable_list = ("name", "url")
    column_default_sort = ("id", False)
    column_formatters = {"status": _status, "record_types": _type_names, "operations": _operation_names}
    column_formatters_detail = column_formatters
    form = EndpointForm
    details_template = "webhooks/endpoint_details.html"

    def __init__(self):
        self.column_filters = [status_filter(WebhookEndpoint.status, STATUSES)]
        super().__init__(
            WebhookEndpoint, db, name=_l("Webhooks"), category=ADMINISTRATION_CATEGORY, endpoint="webhook_endpoints"
        )

    def _values(self, form) -> dict[str, Any]:
        return {name: form[name].data for name in endpoints.FIELDS}

    def create_model(self, form):
        from flask_login import current_user

        succeeded, endpoint = attempt(
            lambda: endpoints.create_endpoint(current_user._get_current_object(), self._values(form)), LABELS
        )
        return endpoint if succeeded else False

    def update_model(self, form, model) -> bool:
        succeeded, _ = attempt(lambda: endpoints.update_endpoint(model, self._values(form)), LABELS)
        return succeeded

    def delete_model(self, model) -> bool:
        succeeded, _ = attempt(lambda: endpoints.delete_endpoint(model), LABELS)
        return succeeded

    def deliveries_url(self, endpoint: WebhookEndpoint) -> str:
        view = next(view for view in self.admin._views if isinstance(view, DeliveryView))
        return view.filtered_url(("endpoint_id", endpoint.id))

    def _change(self, endpoint_id: str, change, done: str):
        endpoint = self.get_one(endpoint_id)
        if endpoint is None:
            flash(gettext("No such webhook endpoint."), "error")
            return redirect(self.get_url(".index_view"))
        succeeded, _ = attempt(lambda: change(endpoint), LABELS)
        if succeeded:
            flash(done, "success")
        return redirect(self.get_url(".details_view", id=endpoint_id))

    @expose("/switch-on/<endpoint_id>", methods=("POST",))
    def switch_on(self, endpoint_id: str):
        return self._change(endpoint_id, endpoints.switch_on, gettext("The endpoint is on: deliveries resume."))

    @expose("/pause/<endpoint_id>", methods=("POST",))
    def pause(self, endpoint_id: str):
        return self._change(endpoint_id, endpoints.pause, gettext("The endpoint is paused."))

    @expose("/secret/<endpoint_id>", methods=("POST",))
    def new_secret(self, endpoint_id: str):
        return self._change(
            endpoint_id, endpoints.rotate_secret, gettext("A new secret signs the deliveries from now on.")
        )


def _error(view, context, model, name) -> str:
    return model.last_error or ""


class DeliveryView(OpiekunModelView):
    """The delivery log, newest first; select deliveries and send them again."""

    required_permission = MANAGE.name
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = (
        "id",
        "endpoint",
        "created_at",
        "event_count",
        "first_event_id",
        "last_event_id",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "delivered_at",
    )
    column_details_list = (*column_list, "key", "duration_ms", "attempted_at")
    column_labels = {**LABELS, "id": _l("Delivery")}
    column_default_sort = ("id", True)
    column_formatters = {"status": _status, "endpoint": _endpoint_link, "last_error": _error}
    column_formatters_detail = column_formatters

    def __init__(self):
        self.column_filters = [
            with_live_options(FilterEqual(WebhookDelivery.endpoint_id, _l("Endpoint")), endpoint_choices),
            status_filter(WebhookDelivery.status, DELIVERY_STATUSES),
        ]
        super().__init__(
            WebhookDelivery,
            db,
            name=_l("Webhook deliveries"),
            category=ADMINISTRATION_CATEGORY,
            endpoint="webhook_deliveries",
        )

    @action("redeliver", _l("Send again"))
    def action_redeliver(self, ids: list[str]) -> None:
        deliveries = [self.get_one(delivery_id) for delivery_id in ids]
        found = [delivery for delivery in deliveries if delivery is not None]

        def send_again() -> int:
            for delivery in found:
                endpoints.redeliver(delivery)
            return len(found)

        succeeded, count = attempt(send_again, LABELS)
        if succeeded:
            flash(gettext("Deliveries sent again: %(count)s.", count=count), "success")

    @expose("/redeliver/<delivery_id>", methods=("POST",))
    def redeliver_one(self, delivery_id: str):
        delivery = self.get_one(delivery_id)
        if delivery is not None:
            succeeded, _ = attempt(lambda: endpoints.redeliver(delivery), LABELS)
            if succeeded:
                flash(gettext("Deliveries sent again: %(count)s.", count=1), "success")
        return redirect(request.referrer or url_for(".index_view"))
