"""The audit plugin's JSON API (registered under ``/api/v1``): the history with filters, its
Excel export (inline for a screenful, as a background job beyond), verification, the
per-type configuration and retention, and anonymizing a person.

Every route is declared with ``opiekun.api.spec.validate``, so it is validated and
listed in ``/api/v1/openapi.json`` (its models are in :mod:`.schemas`); the rules live in
:mod:`.history`, :mod:`.configuration`, :mod:`.retention`, :mod:`.anonymization` and
:mod:`.verification`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_file
from pydantic import ValidationError

from opiekun.plugin import Invalid, Message, NotFound, Refused, db, enqueue, has_permission, record_types
from opiekun.plugin.api import (
    OutputModel,
    QueryModel,
    current_api_user,
    page_answer,
    request_body,
    request_query,
    validate,
)
from opiekun.plugins.audit import anonymization, jobs
from opiekun.plugins.audit.configuration import change_type_settings, type_settings
from opiekun.plugins.audit.history import (
    HistoryFilter,
    check_filter,
    history_gaps,
    more_entries_than,
    page_of_entries,
)
from opiekun.plugins.audit.permissions import ANONYMIZE, CONFIGURE, VIEW
from opiekun.plugins.audit.retention import retention_months, set_retention_months
from opiekun.plugins.audit.schemas import (
    AnonymizeOut,
    AnonymizeRequest,
    EntryOut,
    EntryPage,
    ExportQuery,
    ExportRequest,
    ExportStarted,
    ExportState,
    FilterFields,
    GapOut,
    HistoryQuery,
    RetentionOut,
    RetentionUpdate,
    TypeSettingsOut,
    TypeSettingsUpdate,
    VerifyOut,
)
from opiekun.plugins.audit.verification import verify_history

TAGS = ["Audit"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Exports of up to this many entries are answered at once; larger ones run as a job.
DEFAULT_INLINE_ROWS = 500

# --- access -----------------------------------------------------------------------------------


def require(permission: str) -> Any:
    """The calling user, who must hold ``permission`` (403 otherwise)."""
    user = current_api_user()
    if not has_permission(user, permission):
        raise Refused(
            Message("this needs the permission %(permission)r (administrators have it)", permission=permission)
        )
    return user


def checked_filter(fields: FilterFields) -> HistoryFilter:
    """The query's filters, refused when they name nothing that exists."""
    history_filter = fields.history_filter()
    check_filter(history_filter)
    return history_filter


# --- the history --------------------------------------------------------------------------------


@validate(query=HistoryQuery, answers={200: EntryPage}, tags=TAGS, operation_id="list_audit_entries")
def list_entries():
    """The change history, newest first, with filters (admins and holders of ``audit.view``)."""
    require(VIEW.name)
    query = request_query()
    history_filter = query.history_filter()
    rows, total = page_of_entries(history_filter, query.page, query.per_page)
    return page_answer(
        EntryPage,
        [EntryOut.model_validate(row) for row in rows],
        total,
        query,
        gaps=[GapOut(off_from=gap.off_from, off_until=gap.off_until) for gap in history_gaps(history_filter)],
    )


def inline_export_limit() -> int:
    """Exports of up to this many entries are answered at once (``AUDIT_EXPORT_INLINE_ROWS``)."""
    return int(current_app.config.get("AUDIT_EXPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))


def _start_export(history_filter: HistoryFilter) -> ExportStarted:
    user = current_api_user()
    job_id = enqueue(
        jobs.EXPORT,
        user_id=user.id,
        user_name=user.name,
        filters=history_filter.as_params(),
        site_url=request.host_url,
    )
    return ExportStarted(
        job_id=job_id,
        status="queued",
        status_url=f"/api/v1/audit/exports/{job_id}",
        download_url=f"/api/v1/audit/exports/{job_id}.xlsx",
    )


def send_workbook(
    history_filter: HistoryFilter, download_name: str, language: str | None = None, time_zone: str | None = None
):
    """Write the export to a temporary file in the instance folder and stream it back
    (in ``language`` on the clock of ``time_zone`` for the admin; the API's workbook is
    English, in UTC), its links to records absolute under the address it was asked on."""
    from opiekun.plugins.audit.export import export_history

    handle, path = tempfile.mkstemp(suffix=".xlsx", dir=jobs.export_folder())
    os.close(handle)
    try:
        export_history(history_filter, path, language, request.host_url, time_zone)
        stream = open(path, "rb")  # noqa: SIM115 - closed by the response
    finally:
        os.unlink(path)  # the open handle keeps the data until the response is sent
    return send_file(stream, mimetype=XLSX, as_attachment=True, download_name=download_name)


def file_route(documented: Callable, query: type[QueryModel] | None = None) -> Callable:
    """A route answering with a file, streamed from disk.

    spectree reads a validated route's whole answer into memory (to check it), which a
    file of millions of rows must not go through. So the route runs ``documented``'s body
    directly and validates its query string with the same model itself, while
    ``__wrapped__`` points at the ``validate``-decorated twin, from which the OpenAPI
    document describes the route.
    """
    body = documented

    @functools.wraps(documented)
    def route(*args: Any, **kwargs: Any):
        if query is not None:
            try:
                request.context = SimpleNamespace(query=query.model_validate(request.args.to_dict()), json=None)
            except ValidationError as error:
                raise Invalid(
                    Message("some values are not valid"),
                    {
                        ".".join(str(part) for part in problem["loc"]) or "query": problem["msg"]
                        for problem in error.errors()
                    },
                ) from None
        return body(*args, **kwargs)

    route.__wrapped__ = validate(query=query, answers=documented.answers, tags=TAGS, operation_id=documented.__name__)(
        documented
    )
    return route


def _json(model: OutputModel, status: int = 200):
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def export_entries():
    """The filtered history as an Excel file (``application/vnd.openxmlformats-officedocument.
    spreadsheetml.sheet``): exactly the rows the list shows, newest first. Up to a screenful
    (500 entries) the file is the answer; beyond it (or with ``background=true``) the export
    runs as a background job: ``202`` with the job's status and download links."""
    require(VIEW.name)
    query = request_query()
    history_filter = checked_filter(query)
    if query.background or more_entries_than(history_filter, inline_export_limit()):
        return _json(_start_export(history_filter), 202)
    return send_workbook(history_filter, f"history-{dt.date.today().isoformat()}.xlsx")


export_entries.answers = {200: None, 202: ExportStarted}
export_entries_route = file_route(export_entries, ExportQuery)


@validate(json=ExportRequest, answers={202: ExportStarted}, tags=TAGS, operation_id="start_audit_export")
def start_export():
    """Start a background export of the history matching ``filters``."""
    require(VIEW.name)
    history_filter = HistoryFilter.from_params(request_body().filters)
    unknown = set(request_body().filters) - set(FilterFields.model_fields) - {"from", "to"} - {"date_from", "date_to"}
    if unknown:
        raise Invalid(
            Message("unknown filters"), {f"filters.{name}": Message("not a filter") for name in sorted(unknown)}
        )
    check_filter(history_filter)
    return _start_export(history_filter), 202


def _own_export(job_id: str) -> dict:
    return jobs.own_job(job_id, jobs.EXPORT, require(VIEW.name))


@validate(answers={200: ExportState}, tags=TAGS, operation_id="get_audit_export")
def export_state(job_id: str):
    """How far a background export is; ``download_url`` once it is done."""
    state = _own_export(job_id)
    result = state.get("result") or {}
    return ExportState(
        job_id=job_id,
        status=state["status"],
        progress_done=state["progress_done"],
        progress_total=state["progress_total"],
        rows=result.get("rows"),
        download_url=f"/api/v1/audit/exports/{job_id}.xlsx" if state["status"] == "done" else None,
        error=state["error"],
    )


def download_export(job_id: str):
    """The file of a finished background export (.xlsx)."""
    path = jobs.finished_export(job_id, _own_export(job_id))
    return send_file(path, mimetype=XLSX, as_attachment=True, download_name=f"history-{job_id[:8]}.xlsx")


download_export.answers = {200: None}
download_export_route = file_route(download_export)


@validate(answers={200: VerifyOut}, tags=TAGS, operation_id="verify_audit_chain")
def verify():
    """Whether the history was altered outside the application, naming the first bad entry."""
    require(VIEW.name)
    verdict = verify_history()
    return VerifyOut(
        ok=verdict.ok,
        checked=verdict.checked,
        head_hash=verdict.head_hash,
        bad_entry_id=verdict.bad_entry_id,
        problem=verdict.problem,
        message=verdict.describe(),
    )


# --- configuration ------------------------------------------------------------------------------


@validate(answers={200: TypeSettingsOut}, tags=TAGS, operation_id="get_audit_settings")
def get_settings(object_type: str):
    """What is recorded for one record type."""
    require(VIEW.name)
    return TypeSettingsOut(**type_settings(object_type))


@validate(json=TypeSettingsUpdate, answers={200: TypeSettingsOut}, tags=TAGS, operation_id="update_audit_settings")
def update_settings(object_type: str):
    """Choose which operations of a record type are recorded and which fields are left out."""
    require(CONFIGURE.name)
    settings = change_type_settings(object_type, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TypeSettingsOut(**settings)


@validate(answers={200: RetentionOut}, tags=TAGS, operation_id="get_audit_retention")
def get_retention():
    """How many months the history is kept (``null``: for ever)."""
    require(VIEW.name)
    return RetentionOut(retention_months=retention_months())


@validate(json=RetentionUpdate, answers={200: RetentionOut}, tags=TAGS, operation_id="update_audit_retention")
def update_retention():
    """Keep the history for N months (purged nightly), or for ever (``null``, the default)."""
    require(CONFIGURE.name)
    set_retention_months(request_body().retention_months)
    db.session.commit()
    return RetentionOut(retention_months=retention_months())


# --- anonymization ------------------------------------------------------------------------------


@validate(answers={200: AnonymizeOut}, tags=TAGS, operation_id="anonymize_person")
def anonymize_person(person_id: int):
    """Replace the person's personal data in the record and in all earlier history; one
    ``anonymize`` entry, naming who did it, remains. 404: no such person; 409: already done."""
    require(ANONYMIZE.name)
    result = anonymization.anonymize_person(person_id)
    db.session.commit()
    return AnonymizeOut(**result)


@validate(json=AnonymizeRequest, answers={200: AnonymizeOut}, tags=TAGS, operation_id="anonymize_record")
def anonymize_record():
    """The same, naming the record by ``object_type`` and ``object_id``: only persons hold
    personal data (422 for any other type or an unknown id)."""
    require(ANONYMIZE.name)
    body = request_body()
    if body.object_type not in record_types():
        raise Invalid(
            Message("unknown record type"), {"object_type": Message("no record type %(type)r", type=body.object_type)}
        )
    if body.object_type != "person":
        raise Invalid(
            Message("only persons can be anonymized"),
            {
                "object_type": Message(
                    "a %(type)s holds no personal data to anonymize; use person", type=body.object_type
                )
            },
        )
    try:
        result = anonymization.anonymize_person(body.object_id)
    except NotFound as error:
        raise Invalid(Message("no such person"), {"object_id": error.message}) from None
    db.session.commit()
    return AnonymizeOut(**result)


def build_blueprint() -> Blueprint:
    """The plugin's routes (its admin pages' templates are found by the core's convention)."""
    blueprint = Blueprint("api_audit", __name__, url_prefix="/api/v1")
    blueprint.add_url_rule("/audit", "list_entries", list_entries, methods=["GET"])
    blueprint.add_url_rule("/audit/export.xlsx", "export_entries", export_entries_route, methods=["GET"])
    blueprint.add_url_rule("/audit/exports", "start_export", start_export, methods=["POST"])
    blueprint.add_url_rule("/audit/exports/<string(length=36):job_id>", "export_state", export_state, methods=["GET"])
    blueprint.add_url_rule(
        "/audit/exports/<string(length=36):job_id>.xlsx", "download_export", download_export_route, methods=["GET"]
    )
    blueprint.add_url_rule("/audit/verify", "verify", verify, methods=["GET"])
    blueprint.add_url_rule(
        "/audit/settings/<string(maxlength=50):object_type>", "get_settings", get_settings, methods=["GET"]
    )
    blueprint.add_url_rule(
        "/audit/settings/<string(maxlength=50):object_type>", "update_settings", update_settings, methods=["PATCH"]
    )
    blueprint.add_url_rule("/audit/retention", "get_retention", get_retention, methods=["GET"])
    blueprint.add_url_rule("/audit/retention", "update_retention", update_retention, methods=["PATCH"])
    blueprint.add_url_rule("/audit/anonymize", "anonymize_record", anonymize_record, methods=["POST"])
    blueprint.add_url_rule("/persons/<int:person_id>/anonymize", "anonymize_person", anonymize_person, methods=["POST"])
    return blueprint
