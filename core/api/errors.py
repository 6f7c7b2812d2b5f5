"""The API's uniform errors: ``{"error": {"code", "message", "fields"}}`` with a 4xx status.

The domain's refusals (:mod:`opiekun.errors`) know nothing of HTTP: :data:`DOMAIN_ERROR_STATUSES`
is the one place that gives each kind its status and code. :class:`ApiError` and its
subclasses are for what only HTTP knows (a malformed body, a missing token, a rate limit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from opiekun import errors
from opiekun.errors import DomainError


class ApiError(Exception):
    """An error the API answers with. Raise it (or a subclass) anywhere in a request."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        fields: Mapping[str, str] | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.details = dict(details or {})
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message, "fields": self.fields}
        error.update(self.details)
        return {"error": error}


class Malformed(ApiError):
    status, code = 400, "malformed"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


#: The status and code the API answers each kind of domain refusal with.
DOMAIN_ERROR_STATUSES: dict[type[DomainError], tuple[int, str]] = {
    errors.Refused: (403, "forbidden"),
    errors.NotFound: (404, "not_found"),
    errors.Conflict: (409, "conflict"),
    errors.Invalid: (422, "invalid"),
    errors.Gone: (410, "gone"),
}


def api_error_for(error: DomainError) -> ApiError:
    """The API's answer to a domain refusal: its message, fields and details, with the
    status and code of the nearest kind in :data:`DOMAIN_ERROR_STATUSES` (a bare
    :class:`~opiekun.errors.DomainError` is a 400)."""
    status, code = next(
        (DOMAIN_ERROR_STATUSES[kind] for kind in type(error).__mro__ if kind in DOMAIN_ERROR_STATUSES),
        (ApiError.status, ApiError.code),
    )
    return ApiError(error.message, error.fields, status=status, code=code, details=error.details)


def error_response(error: ApiError | DomainError) -> Response:
    """The JSON answer to ``error``."""
    if isinstance(error, DomainError):
        error = api_error_for(error)
    response = jsonify(error.body())
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="opiekun"'
    return response


_HTTP_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def install_error_handlers(app: Flask, page_for: Callable[[HTTPException], Any]) -> None:
    """API and domain errors answer JSON; werkzeug's errors do too when the path is under
    /api/, elsewhere ``page_for`` answers them (a page in the user's language)."""

    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(DomainError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not _is_api_request():
            return page_for(error)
        status = error.code or 500
        return error_response(
            ApiError(error.description or error.name, status=status, code=_HTTP_CODES.get(status, "error"))
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if not _is_api_request():
            raise error
        return error_response(ApiError("internal error; it has been logged", status=500, code="internal"))


__all__ = [
    "DOMAIN_ERROR_STATUSES",
    "ApiError",
    "Malformed",
    "Unauthorized",
    "api_error_for",
    "error_response",
    "install_error_handlers",
]
