"""The JSON API under ``/api/v1``: authentication, the core's routes, and record CRUD for
every registered record type. Plugins add their own blueprints under the same prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, g, request

from opiekun.api.errors import Unauthorized
from opiekun.errors import Message

if TYPE_CHECKING:
    from opiekun.record_registry import RecordTypeRegistry

API_PREFIX = "/api/v1"
PUBLIC_ENDPOINTS = frozenset({"api.issue_token"})


def authenticate_api_request() -> None:
    """Every API request but the token route needs a valid bearer token of an active user.

    Registered app-wide for paths under ``/api/`` so plugins' API blueprints are covered
    without doing anything.
    """
    if (
        not request.path.startswith("/api/")
        or request.endpoint in PUBLIC_ENDPOINTS
        or request.endpoint == "openapi_document"
    ):
        return
    from opiekun.auth import act_as_user, user_for_token

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(Message("send 'Authorization: Bearer <token>'; get a token from POST /api/v1/auth/token"))
    user = user_for_token(token.strip())
    if user is None:
        raise Unauthorized(Message("the token is invalid, expired or revoked, or the user has left"))
    g.api_user = user
    act_as_user(user)


def build_api_blueprint(registry: RecordTypeRegistry) -> Blueprint:
    """A fresh blueprint for one app (record routes depend on the app's record types).

    The route modules are imported here, not at the top: they use the records services,
    which use the API's schemas — importing them lazily keeps ``opiekun.api`` importable
    on its own."""
    from opiekun.api import pipelines, roles, system, users
    from opiekun.api.record_routes import add_record_routes
    from opiekun.auth import reset_actor

    blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
    users.add_routes(blueprint)
    pipelines.add_routes(blueprint)
    roles.add_routes(blueprint)
    system.add_routes(blueprint)
    for record_type in registry:
        if record_type.api is not None and record_type.api_path:
            add_record_routes(blueprint, record_type, registry.fields_of(record_type))
    blueprint.teardown_request(reset_actor)
    return blueprint
