"""Optimistic concurrency for the API's records: every answer with one record carries an
``ETag`` (a digest of the record as the API shows it), and a ``PATCH`` or ``DELETE`` with
``If-Match`` goes through only while the record is still what the caller read: otherwise
412, and nothing changes. Requests without ``If-Match`` keep working as before."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import make_response, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from opiekun.api.errors import ApiError
from opiekun.errors import Message

IF_MATCH_NOTE = (
    "Send the `ETag` of your last read as `If-Match` and the change goes through only while the "
    "record is unchanged since (412 otherwise, nothing changed); without `If-Match` it always does."
)


class PreconditionFailed(ApiError):
    status, code = 412, "precondition_failed"


def etag_of(answer: BaseModel) -> str:
    """A strong entity tag of one record's answer (unquoted): it changes whenever a field
    the API shows changes (fields plugins add included)."""
    return hashlib.sha256(answer.model_dump_json().encode()).hexdigest()[:32]


def tagged(answer: BaseModel, status: int = 200) -> ResponseReturnValue:
    """``answer`` as JSON with its ``ETag``."""
    response = make_response(answer.model_dump(mode="json"), status)
    response.set_etag(etag_of(answer))
    return response


def require_unchanged_since_read(current: Callable[[], BaseModel]) -> None:
    """Refuse (412) when the request's ``If-Match`` names none of the record's current tag
    (``*`` matches any existing record). ``current()`` makes the record's answer, only
    when the request sends ``If-Match``: a request without it costs nothing more."""
    if not request.headers.get("If-Match"):
        return
    if not request.if_match.star_tag and not request.if_match.contains(etag_of(current())):
        raise PreconditionFailed(
            Message("the record changed since you read it: read it again and repeat the change"),
            {"If-Match": Message("does not match the record's current ETag")},
        )
