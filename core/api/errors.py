"""The API's uniform errors: ``{"error": {"code", "message", "fields"}}`` with a 4xx status."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException


class Message(str):
    """A refusal's text that the API answers in English and the admin shows in the user's
    language: the English text, interpolated (``Message("no transfer %(id)s", id=7)`` is
    ``"no transfer 7"``), which remembers its msgid and values for :meth:`translated`.
    Put it where a plain string goes (an error's message, a field's problem); extract it
    for translation with ``pybabel extract -k Message``."""

    def __new__(cls, msgid: str, **values) -> "Message":
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid, text.values = msgid, values
        return text

    def translated(self) -> str:
        from flask_babel import gettext

        return gettext(self.msgid, **self.values)


def translated(text: str) -> str:
    """``text`` in the user's language when it is a :class:`Message`, else as it is."""
    return text.translated() if isinstance(text, Message) else text


class ApiError(Exception):
    """An error the API answers with. Raise it (or a subclass) anywhere in a request."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None, *, status: int | None = None,
                 code: str | None = None, details: Mapping | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        self.details = dict(details or {})
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "fields": self.fields}
        error.update(self.details)
        return {"error": error}


class Malformed(ApiError):
    status, code = 400, "malformed"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class Invalid(ApiError):
    status, code = 422, "invalid"


def error_response(error: ApiError):
    response = jsonify(error.body())
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="opiekun"'
    return response


_HTTP_CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
               409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests"}


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def install_error_handlers(app: Flask) -> None:
    """API errors answer JSON; werkzeug's errors do too when the path is under /api/."""

    app.register_error_handler(ApiError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if not _is_api_request():
            return error
        status = error.code or 500
        return error_response(ApiError(error.description or error.name, status=status,
                                       code=_HTTP_CODES.get(status, "error")))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unexpected error on %s %s", request.method, request.path)
        if not _is_api_request():
            raise error
        return error_response(ApiError("internal error; it has been logged", status=500, code="internal"))
