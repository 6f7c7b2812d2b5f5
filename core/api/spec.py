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
from spectree.utils import get_model_key

from opiekun import __version__
from opiekun.api.errors import Malformed
from opiekun.api.schemas import ErrorBody
from opiekun.errors import Invalid, Message

OPENAPI_PATH = "/api/v1/openapi.json"
#: how a ``$ref`` to a component schema begins
SCHEMA_REF = "#/components/schemas/"
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


def module_tag(module: str) -> str:
    """Who declares a schema, by its module: ``tasks`` for a built-in plugin, ``core`` for
    the core, a partner's package name (``opiekun_contracts``) — what tells two schemas of
    the same name apart in the document."""
    parts = module.split(".")
    if parts[:2] == ["opiekun", "plugins"] and len(parts) > 2:
        return parts[2]
    return "core" if parts[0] == "opiekun" else parts[0]


spec = SpecTree(
    "flask",
    title="Opiekun API",
    version=__version__,
    description="The JSON API of Opiekun, a CRM back office. Authenticate with "
    "`POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`.",
    mode="strict",
    path="apidoc",
    annotations=False,
    naming_strategy=lambda model: f"{get_model_key(model).rsplit('.', 1)[0]}.{module_tag(model.__module__)}",
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
    permission: str | None = None,
) -> Callable:
    """Validate a view's query string and JSON body and describe the route in OpenAPI.

    :param answers: ``{status: model}`` of successful answers (``None`` for no body);
        the common error answers are added. The view reads ``request.context.query`` /
        ``request.context.json`` and returns a model instance, a ``(model, status)`` tuple
        or a Flask response.
    :param public: the route needs no token (only ``/auth/token`` is).
    :param permission: the route needs this permission: checked before the request is
        validated (a caller who may not use the route gets 403 and learns nothing about
        its body), and said in the route's description.
    """
    statuses = dict(COMMON_ERRORS)
    if public:
        statuses.pop("HTTP_403")
    for status, model in (answers or {200: None}).items():
        statuses[f"HTTP_{status}"] = model
    statuses.setdefault("HTTP_404", ErrorBody)
    statuses.setdefault("HTTP_409", ErrorBody)
    validating = spec.validate(
        query=query,
        json=json,
        resp=Response(**statuses),
        tags=list(tags),
        operation_id=operation_id,
        security={} if public else None,
    )
    if permission is None:
        return validating
    from opiekun.permissions import requires_permission

    def guarded(view: Callable) -> Callable:
        view.__doc__ = f"{(view.__doc__ or '').rstrip()}\n\nNeeds the permission `{permission}`.".lstrip()
        return requires_permission(permission)(validating(view))

    return guarded


def openapi_document(app: Flask) -> dict:
    """``app``'s OpenAPI document, built once from its own routes. Its components are only
    the schemas its routes reach: spectree keeps every imported module's models in one
    registry, so a plugin imported but not enabled must not show. Its schemas are named as
    their classes are (``CompanyPage``, ``UserOut``), so that client generators make
    readable types of them (see :func:`_with_readable_schema_names`)."""
    document = app.extensions.get("opiekun.openapi_document")
    if document is None:
        document = _with_readable_schema_names(_without_unreachable_schemas(app.extensions["opiekun.openapi"].spec))
        app.extensions["opiekun.openapi_document"] = document
    return document


def _with_readable_schema_names(document: dict) -> dict:
    """The document with each schema named after its class: spectree names them
    ``CompanyPage.core`` and a model nested in another ``UserPage.core.UserOut``, which
    generators cannot resolve or turn into names. A class named like another one that
    describes something else gets its declarer in front (``TasksSettingsOut`` beside
    ``OwnershipSettingsOut``); copies of one schema (nested and on its own) become one."""
    schemas = document.get("components", {}).get("schemas", {})
    names = {key: _class_name(key) for key in schemas}
    for specific in (_declared_name, _numbered_name):
        clashing = _clashing_keys(schemas, names)
        if not clashing:
            break
        names.update(specific(key, clashing) for key in clashing)
    renamed = _with_refs_renamed(document, names)
    renamed["components"] = {
        **document["components"],
        # generators name a type by the schema's title: it is the new name too
        "schemas": {
            names[key]: {**_with_refs_renamed(schemas[key], names), "title": names[key]} for key in sorted(schemas)
        },
    }
    return renamed


def _class_name(key: str) -> str:
    """``CompanyPage.core`` → ``CompanyPage``; ``UserPage.core.UserOut`` → ``UserOut``."""
    parts = key.split(".")
    return parts[2] if len(parts) > 2 else parts[0]


def _declared_name(key: str, _clashing: list[str]) -> tuple[str, str]:
    """``SettingsOut.tasks`` → ``TasksSettingsOut``."""
    tag = key.split(".")[1] if "." in key else ""
    return key, "".join(part.capitalize() for part in tag.split("_")) + _class_name(key)


def _numbered_name(key: str, clashing: list[str]) -> tuple[str, str]:
    return key, f"{_declared_name(key, clashing)[1]}{sorted(clashing).index(key) + 1}"


def _clashing_keys(schemas: dict, names: dict[str, str]) -> list[str]:
    """The keys whose name is given to schemas that differ (once references inside them
    are renamed the same way)."""
    contents: dict[str, set[str]] = {}
    for key, schema in schemas.items():
        contents.setdefault(names[key], set()).add(json.dumps(_with_refs_renamed(schema, names), sort_keys=True))
    return [key for key in schemas if len(contents[names[key]]) > 1]


def _with_refs_renamed(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: SCHEMA_REF + names.get(value.removeprefix(SCHEMA_REF), value.removeprefix(SCHEMA_REF))
            if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMA_REF)
            else _with_refs_renamed(value, names)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_with_refs_renamed(value, names) for value in node]
    return node


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
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(SCHEMA_REF)} if str(node.get("$ref", "")).startswith(SCHEMA_REF) else set()
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
