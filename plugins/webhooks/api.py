"""``/api/v1/webhooks``: endpoints, their delivery log and redelivery. Thin: every rule lives
in :mod:`~opiekun.plugins.webhooks.endpoints`; every route needs ``webhooks.manage``."""

from __future__ import annotations

from functools import partial

from flask import Blueprint
from sqlalchemy import select

from opiekun.plugin import db
from opiekun.plugin.api import current_api_user, paginate, request_body, request_query, validate
from opiekun.plugins.webhooks import endpoints
from opiekun.plugins.webhooks.models import WebhookDelivery, WebhookEndpoint
from opiekun.plugins.webhooks.permissions import MANAGE
from opiekun.plugins.webhooks.schemas import (
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookDeliveryQuery,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointPage,
    WebhookEndpointQuery,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
    WebhookRedeliveryOut,
    WebhookSecretOut,
)

#: every route: under "Webhooks", for holders of webhooks.manage (checked before the input)
webhook_route = partial(validate, tags=["Webhooks"], permission=MANAGE.name)


@webhook_route(query=WebhookEndpointQuery, answers={200: WebhookEndpointPage}, operation_id="list_webhook_endpoints")
def list_endpoints():
    query = request_query()
    statement = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if query.status:
        statement = statement.where(WebhookEndpoint.status == query.status)
    return paginate(statement, query, WebhookEndpointOut, WebhookEndpointPage)


@webhook_route(
    json=WebhookEndpointCreate, answers={201: WebhookEndpointWithSecret}, operation_id="create_webhook_endpoint"
)
def create_endpoint():
    endpoint = endpoints.create_endpoint(current_api_user(), request_body().model_dump())
    db.session.commit()
    return WebhookEndpointWithSecret.model_validate(endpoint), 201


@webhook_route(answers={200: WebhookEndpointWithSecret}, operation_id="get_webhook_endpoint")
def get_endpoint(endpoint_id: int):
    return WebhookEndpointWithSecret.model_validate(endpoints.endpoint_by_id(endpoint_id))


@webhook_route(json=WebhookEndpointUpdate, answers={200: WebhookEndpointOut}, operation_id="update_webhook_endpoint")
def update_endpoint(endpoint_id: int):
    endpoint = endpoints.endpoint_by_id(endpoint_id)
    values = request_body().model_dump(exclude_unset=True)
    status = values.pop("status", None)
    endpoints.update_endpoint(endpoint, values)
    if status == "active" and endpoint.status != "active":
        endpoints.switch_on(endpoint)
    elif status == "paused" and endpoint.status != "paused":
        endpoints.pause(endpoint)
    db.session.commit()
    return WebhookEndpointOut.model_validate(endpoint)


@webhook_route(answers={204: None}, operation_id="delete_webhook_endpoint")
def delete_endpoint(endpoint_id: int):
    endpoints.delete_endpoint(endpoints.endpoint_by_id(endpoint_id))
    db.session.commit()
    return "", 204


@webhook_route(answers={200: WebhookSecretOut}, operation_id="rotate_webhook_secret")
def rotate_secret(endpoint_id: int):
    secret = endpoints.rotate_secret(endpoints.endpoint_by_id(endpoint_id))
    db.session.commit()
    return WebhookSecretOut(secret=secret)


@webhook_route(query=WebhookDeliveryQuery, answers={200: WebhookDeliveryPage}, operation_id="list_webhook_deliveries")
def list_deliveries(endpoint_id: int):
    endpoint = endpoints.endpoint_by_id(endpoint_id)
    query = request_query()
    statement = (
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id.desc())
    )
    if query.status:
        statement = statement.where(WebhookDelivery.status == query.status)
    return paginate(statement, query, WebhookDeliveryOut, WebhookDeliveryPage)


@webhook_route(answers={202: WebhookRedeliveryOut}, operation_id="redeliver_webhook_delivery")
def redeliver(endpoint_id: int, delivery_id: int):
    delivery = endpoints.delivery_of(endpoints.endpoint_by_id(endpoint_id), delivery_id)
    status = endpoints.redeliver(delivery)
    db.session.commit()
    return WebhookRedeliveryOut(status=status), 202


def build_blueprint() -> Blueprint:
    blueprint = Blueprint("api_webhooks", __name__, url_prefix="/api/v1/webhooks")
    one = "/<int:endpoint_id>"
    blueprint.add_url_rule("", "list_endpoints", list_endpoints, methods=["GET"])
    blueprint.add_url_rule("", "create_endpoint", create_endpoint, methods=["POST"])
    blueprint.add_url_rule(one, "get_endpoint", get_endpoint, methods=["GET"])
    blueprint.add_url_rule(one, "update_endpoint", update_endpoint, methods=["PATCH"])
    blueprint.add_url_rule(one, "delete_endpoint", delete_endpoint, methods=["DELETE"])
    blueprint.add_url_rule(f"{one}/secret", "rotate_secret", rotate_secret, methods=["POST"])
    blueprint.add_url_rule(f"{one}/deliveries", "list_deliveries", list_deliveries, methods=["GET"])
    blueprint.add_url_rule(f"{one}/deliveries/<int:delivery_id>/redeliver", "redeliver", redeliver, methods=["POST"])
    return blueprint
