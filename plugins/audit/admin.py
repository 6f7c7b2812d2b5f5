"""The history in the admin panel: a list with filters (date range, user — departed ones
too —, record type, one record, operation), an export of exactly the current filter, the
progress page of a background export, the integrity check (in the background, with
progress, for a long history), and a "History" section on every record's page.
Permissions are checked here on the server (``audit.view``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import get_locale, get_timezone, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from opiekun.plugin import (
    DomainError,
    NotFound,
    Refused,
    db,
    enqueue,
    record_types_label,
    today_in,
    translated,
    value_label,
)
from opiekun.plugin.admin import (
    ADMINISTRATION_CATEGORY,
    LoginRequired,
    ShownTotal,
    current_user_holds,
    date_or_none,
    requested_page,
)
from opiekun.plugins.audit import chain, jobs
from opiekun.plugins.audit.entries import REDACTED
from opiekun.plugins.audit.history import (
    HistoryFilter,
    check_filter,
    filtered_entries,
    history_gaps,
    known_object_types,
    known_operations,
    more_entries_than,
    page_of_entries,
    users_for_filter,
)
from opiekun.plugins.audit.labels import operation_label
from opiekun.plugins.audit.permissions import VIEW
from opiekun.plugins.audit.verification import verify_history

PAGE_SIZE = 50
SECTION_ENTRIES = 10
#: Up to this many entries (``AUDIT_VERIFY_INLINE_ROWS``) the integrity page checks the
#: chain while it loads (a few seconds at most); beyond, the job ``audit.verify`` does.
DEFAULT_VERIFY_INLINE_ROWS = 50_000


def shown_value(value: Any, label: Any) -> str:
    """A field value as a reader wants it: the label (a user's or stage's name) first."""
    if REDACTED in (value, label):
        return gettext("(anonymized)")
    if label is not None:
        return str(label)
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(shown_value(item, None) for item in value)
    return value_label(value) if isinstance(value, str) else str(value)


def shown_field(item: dict) -> str:
    """A changed field's label in the user's language."""
    label = item.get("field_label")
    return gettext(label) if label else item.get("field", "")


def shown_type(object_type: str) -> str:
    """A record type as the user's language names it (plural: the filter's choices and
    the list's column); a type no longer registered by its name."""
    return translated(record_types_label([object_type]))


def shown_operation(operation: str) -> str:
    """An operation as the history names it (``update`` → "changed")."""
    return operation_label(operation)


#: The history filter's parameters as its form names them (a refusal names the field).
FILTER_LABELS = {
    "from": _l("From"),
    "to": _l("To"),
    "user_id": _l("User"),
    "object_type": _l("Record type"),
    "object_id": _l("Record ID"),
    "operation": _l("Operation"),
}


class AuditView(LoginRequired, BaseView):
    """Administration → Change history."""

    required_permission = VIEW.name

    def __init__(self):
        super().__init__(
            name=_l("Change history"), category=ADMINISTRATION_CATEGORY, endpoint="audit", url="/admin/audit"
        )

    def _filter(self) -> tuple[HistoryFilter | None, dict[str, str]]:
        """The filter of the query string (its days are the user's), or ``None`` and why
        not (per field label)."""
        try:
            days = {
                name: date_or_none(request.args[name]) or request.args[name]
                for name in ("from", "to")
                if name in request.args
            }
            history_filter = HistoryFilter.from_params({**request.args, **days, "time_zone": str(get_timezone())})
            check_filter(history_filter)
            return history_filter, {}
        except DomainError as error:
            return None, {
                str(FILTER_LABELS.get(field, field)): translated(problem) for field, problem in error.fields.items()
            }

    @expose("/")
    def index(self):
        """The history, newest first, with the filter form and a pager."""
        history_filter, problems = self._filter()
        page = requested_page()
        entries, total = ([], 0)
        if history_filter is not None:
            entries, total = page_of_entries(history_filter, page, PAGE_SIZE)
        params = {key: value for key, value in request.args.items() if key != "page" and value}
        return self.render(
            "audit/history.html",
            entries=entries,
            total=ShownTotal.of(total),
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            params=params,
            history_filter=history_filter,
            problems=problems,
            users=users_for_filter(),
            object_types=known_object_types(),
            operations=known_operations(),
            shown_value=shown_value,
            shown_field=shown_field,
            shown_operation=shown_operation,
            shown_type=shown_type,
            export_url=url_for(".export", **params),
            gaps=history_gaps(history_filter) if history_filter is not None else [],
        )

    @expose("/export.xlsx")
    def export(self):
        """Exactly the current filter: the file at once for a screenful, else a job."""
        from opiekun.plugins.audit.api import inline_export_limit, send_workbook

        history_filter, problems = self._filter()
        if history_filter is None:
            abort(400)
        language, time_zone = str(get_locale() or "pl"), str(get_timezone())
        if not more_entries_than(history_filter, inline_export_limit()):
            name = f"{gettext('history')}-{today_in(time_zone).isoformat()}.xlsx"
            return send_workbook(history_filter, name, language, time_zone)
        job_id = enqueue(
            jobs.EXPORT,
            user_id=current_user.id,
            user_name=current_user.name,
            filters=history_filter.as_params(),
            language=language,
            site_url=request.host_url,
            time_zone=time_zone,
        )
        return redirect(url_for(".export_progress", job_id=job_id))

    @expose("/exports/<string(length=36):job_id>")
    def export_progress(self, job_id: str):
        """The progress of a background export, then its download link."""
        state = own_job(job_id, jobs.EXPORT)
        return self.render(
            "audit/export_progress.html",
            state=state,
            job_id=job_id,
            download_url=url_for(".export_download", job_id=job_id),
        )

    @expose("/exports/<string(length=36):job_id>.xlsx")
    def export_download(self, job_id: str):
        """The file of a finished background export."""
        state = own_job(job_id, jobs.EXPORT)
        try:
            path = jobs.finished_export(job_id, state)
        except DomainError as error:  # expired, or deleted after an anonymization: say so on the history page
            flash(translated(error.message), "error")
            return redirect(url_for(".index"))
        return send_file(path, as_attachment=True, download_name=f"{gettext('history')}-{job_id[:8]}.xlsx")


def own_job(job_id: str, name: str) -> dict:
    """:func:`jobs.own_job` for the logged-in user, as the panel's 404 and 403 pages."""
    try:
        return jobs.own_job(job_id, name, current_user)
    except NotFound:
        abort(404)
    except Refused:
        abort(403)


class AuditIntegrityView(LoginRequired, BaseView):
    """Administration → History integrity: was the history altered outside the app?

    A history of up to ``AUDIT_VERIFY_INLINE_ROWS`` entries is checked while the page
    loads; a longer one by the job ``audit.verify``, whose page shows the progress and then
    the same verdict.
    """

    required_permission = VIEW.name

    def __init__(self):
        super().__init__(
            name=_l("History integrity"),
            category=ADMINISTRATION_CATEGORY,
            endpoint="audit_integrity",
            url="/admin/audit-integrity",
        )

    @expose("/")
    def index(self):
        """The verdict on the whole chain: checked now, or by a background job."""
        if more_entries_than(HistoryFilter(), _verify_inline_limit()):
            job_id = enqueue(jobs.VERIFY, user_id=current_user.id, user_name=current_user.name)
            return redirect(url_for(".run", job_id=job_id))
        verdict = verify_history()
        db.session.rollback()  # verification only reads; release the head row's snapshot
        return self._render(verdict, None)

    @expose("/runs/<string(length=36):job_id>")
    def run(self, job_id: str):
        """A background check: its progress, then its verdict."""
        state = own_job(job_id, jobs.VERIFY)
        verdict = chain.Verdict(**state["result"]) if state["status"] == "done" and state["result"] else None
        return self._render(verdict, state)

    def _render(self, verdict: chain.Verdict | None, state: dict | None):
        return self.render("audit/integrity.html", verdict=verdict, state=state, history_url=url_for("audit.index"))


def _verify_inline_limit() -> int:
    return int(current_app.config.get("AUDIT_VERIFY_INLINE_ROWS", DEFAULT_VERIFY_INLINE_ROWS))


def history_section(record_type, record) -> list[tuple[str, str]]:
    """The "History" section of one record's admin page (for those who may see history)."""
    if record is None or getattr(record, "id", None) is None or not current_user_holds(VIEW.name):
        return []
    history_filter = HistoryFilter(object_type=record_type.name, object_id=record.id)
    rows = db.session.execute(filtered_entries(history_filter).limit(SECTION_ENTRIES)).mappings().all()
    template = current_app.jinja_env.get_template("audit/record_section.html")
    html = template.render(
        entries=rows,
        shown_value=shown_value,
        shown_field=shown_field,
        shown_operation=shown_operation,
        history_url=url_for("audit.index", object_type=record_type.name, object_id=record.id),
        gaps=history_gaps(history_filter, since=getattr(record, "created_at", None)),
    )
    return [(gettext("History"), Markup(html))]
