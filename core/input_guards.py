"""Guards that stop malformed input at the door, before a parser or the database fails on
it with a 500: one place for every route of the core and of plugins.

* JSON bodies nested deeper than :data:`MAX_JSON_DEPTH` (``[[[[…`` ×2000 makes Python's
  parser raise ``RecursionError``) are not JSON the app accepts: the API answers 400
  ``malformed``, as for any body that does not parse.
* Outside the API (the admin, the login page, the calendar feed) a NUL character in the
  path, the query string or a form — which PostgreSQL text cannot hold — is a 400. The API
  refuses NULs field by field (422, :mod:`opiekun.api.schemas`).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider

#: The deepest nesting of arrays and objects a JSON body may have (the API's bodies nest
#: a few levels: a pipeline's stages, a transfer's split).
MAX_JSON_DEPTH = 32


def nesting_depth_exceeds(value: Any, limit: int) -> bool:
    """``value`` (parsed JSON) has arrays/objects nested more than ``limit`` deep. Walked
    without recursion, so any depth is safe to ask about."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than :data:`MAX_JSON_DEPTH` with a
    ``ValueError`` — what Flask reads as "not valid JSON" (a 400), not a ``RecursionError``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
        if nesting_depth_exceeds(value, MAX_JSON_DEPTH):
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return value


def has_nul(text: str) -> bool:
    return "\x00" in text


def refuse_nul_bytes() -> None:
    """``before_request``: outside the API, a NUL in the path, a query parameter or a form
    field (name or value) is a 400 — whatever view, filter or search would use it."""
    if request.path.startswith("/api/"):
        return
    fields = chain(request.args.lists(), request.form.lists() if request.method in ("POST", "PUT", "PATCH") else ())
    if has_nul(request.path) or any(has_nul(name) or any(map(has_nul, values)) for name, values in fields):
        abort(400, description="The request contains a NUL character, which no field may hold.")


def install_input_guards(app: Flask) -> None:
    """Put the guards in place; call before any other ``before_request`` is added."""
    app.json = GuardedJSONProvider(app)
    app.before_request(refuse_nul_bytes)
