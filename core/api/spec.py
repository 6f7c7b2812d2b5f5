"""Request validation and the OpenAPI document, from one declaration per route (spectree).

Decorate a view with :func:`validate`; its query/body models validate the request and the
same models describe the route in ``/api/v1/openapi.json``, so the document cannot drift
from the code. Validation problems become the uniform error body (422, or 400 for a body
that is not JSON at all).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app, jsonify, request
from pydantic import BaseModel
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from opiekun import __version__
from opiekun.api.errors import Malformed
from opiekun.api.schemas import ErrorBody
from opiekun.errors import Invalid, Message

OPENAPI_PATH = "/api/v1/openapi.json"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _field_name(location: tuple) -> str:
    """``("split", 0, "share")`` → ``split.0.share``: the list index says which item."""
    return ".".join(str(part) for part in location) or "body"


def _check_request(req, resp, req_validation_error, instance, *args: Any) -> None:
    """spectree's ``before`` hook: turn its validation result into our errors."""
    if req.method in BODY_METHODS and req.get_data(cache=True):
        if not req.is_json:
            raise Malformed(Message("send the body as JSON (Content-Type: application/json)"))
        if req.get_json(silent=True) is None:
            raise Malformed(Message("the body is not valid JSON"))
    if req_validation_error is None:
        return
    fields: dict[str, str] = {}
    for problem in req_validation_error.errors():
        location = tuple(problem.get("loc", ()))
        fields.setdefault(_field_name(location), problem.get("msg", Message("invalid")))
    raise Invalid(Message("some values are not valid"), fields)


spec = SpecTree(
    "flask",
    title="Opiekun API",
    version=__version__,
    description="The JSON API of Opiekun, a CRM back office. Authenticate with "
    "`POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`.",
    mode="strict",
    path="apidoc",
    annotations=False,
    before=_check_request,
    validation_error_status=422,
    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"bearer": []},
)

#: Errors every authenticated route may answer with.
COMMON_ERRORS = {"HTTP_400": ErrorBody, "HTTP_401": ErrorBody, "HTTP_403": ErrorBody, "HTTP_422": ErrorBody}


def validate(
    *,
    query: type[BaseModel] | None = None,
    json: type[BaseModel] | None = None,
    answers: dict[int, type[BaseModel] | None] | None = None,
    tags: Sequence[str] = (),
    operation_id: str | None = None,
    public: bool = False,
) -> Callable:
    """Validate a view's query string and JSON body and describe the route in OpenAPI.

    :param answers: ``{status: model}`` of successful answers (``None`` for no body);
        the common error answers are added. The view reads ``request.context.query`` /
        ``request.context.json`` and returns a model instance, a ``(model, status)`` tuple
        or a Flask response.
    :param public: the route needs no token (only ``/auth/token`` is).
    """
    statuses = dict(COMMON_ERRORS)
    if public:
        statuses.pop("HTTP_403")
    for status, model in (answers or {200: None}).items():
        statuses[f"HTTP_{status}"] = model
    statuses.setdefault("HTTP_404", ErrorBody)
    statuses.setdefault("HTTP_409", ErrorBody)
    return spec.validate(
        query=query,
        json=json,
        resp=Response(**statuses),
        tags=list(tags),
        operation_id=operation_id,
        security={} if public else None,
    )


def openapi_document(app: Flask) -> dict:
    """``app``'s OpenAPI document, built once from its own routes. Its components are only
    the schemas its routes reach: spectree keeps every imported module's models in one
    registry, so a plugin imported but not enabled must not show."""
    document = app.extensions.get("opiekun.openapi_document")
    if document is None:
        document = _without_unreachable_schemas(app.extensions["opiekun.openapi"].spec)
        app.extensions["opiekun.openapi_document"] = document
    return document


def _without_unreachable_schemas(document: dict) -> dict:
    schemas = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    waiting = _schema_refs({key: value for key, value in document.items() if key != "components"})
    while waiting:
        name = waiting.pop()
        if name in reached or name not in schemas:
            continue
        reached.add(name)
        waiting |= _schema_refs(schemas[name])
    pruned = dict(document)
    pruned["components"] = {
        **document.get("components", {}),
        "schemas": {name: schemas[name] for name in sorted(reached)},
    }
    return pruned


def _schema_refs(node: Any) -> set[str]:
    """The component schema names ``node`` refers to (``#/components/schemas/<name>``)."""
    prefix = "#/components/schemas/"
    if isinstance(node, dict):
        found = {node["$ref"][len(prefix) :]} if str(node.get("$ref", "")).startswith(prefix) else set()
        for value in node.values():
            found |= _schema_refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_schema_refs(value) for value in node)) if node else set()
    return set()


def openapi_text(app: Flask) -> str:
    """The OpenAPI document of ``app`` as stable JSON text (sorted keys, indented, ending
    in a newline), as kept in the repository's docs/openapi.json."""
    return json.dumps(openapi_document(app), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def install_openapi(app: Flask) -> None:
    """Serve this app's OpenAPI document (built on first request from its own routes).

    Each app gets its own copy of spectree's model registry: building a document removes
    the nested definitions from the registry's schemas, so a shared one would leave the
    next app of the process with references to schemas it no longer lists."""
    own = copy.copy(spec)
    own.models = copy.deepcopy(spec.models)
    app.extensions["opiekun.openapi"] = own

    def serve_openapi_document():
        return jsonify(openapi_document(current_app))

    app.add_url_rule(OPENAPI_PATH, endpoint="openapi_document", view_func=serve_openapi_document)


def request_query():
    return request.context.query


def request_body():
    return request.context.json
