"""Building blocks of a plugin's JSON routes under ``/api/v1``: validation and the OpenAPI
document from pydantic schemas (:func:`validate`), the bounded field types every input
uses, pagination, and the user the request authenticates (part of the public namespace,
see :mod:`opiekun.plugin`). Guard a route with ``@requires_permission("visits.manage")``
(403 unless the caller holds it) under ``@validate``."""

from __future__ import annotations

from opiekun.api import API_PREFIX
from opiekun.api.errors import ApiError, Unauthorized
from opiekun.api.pagination import page_answer, page_of_list, paginate
from opiekun.api.schemas import (
    Day,
    InputModel,
    Money,
    OutputModel,
    Page,
    PageQuery,
    QueryId,
    QueryModel,
    RecordId,
    RecordListQuery,
    RecordOut,
    Text,
    record_list_query,
)
from opiekun.api.spec import request_body, request_query, validate
from opiekun.auth import current_api_user
from opiekun.permissions import requires_permission

__all__ = [
    "API_PREFIX",
    "ApiError",
    "Day",
    "InputModel",
    "Money",
    "OutputModel",
    "Page",
    "PageQuery",
    "QueryId",
    "QueryModel",
    "RecordId",
    "RecordListQuery",
    "RecordOut",
    "Text",
    "Unauthorized",
    "current_api_user",
    "page_answer",
    "page_of_list",
    "paginate",
    "record_list_query",
    "request_body",
    "request_query",
    "requires_permission",
    "validate",
]
