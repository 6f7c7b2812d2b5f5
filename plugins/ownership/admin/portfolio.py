""" "Records by owner" (enova365's "Kontrahenci wg opiekuna"): what a user looked after in a
period, page by page, filtered by record type and owner kind, with totals per type and an
Excel export of the whole list. The rows come from :func:`reports.portfolio`, as in the API."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from flask import request, send_file, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import Row, select

from opiekun.plugin import DomainError, User, db, record_types, show_departed_users, user_label, xlsx_text
from opiekun.plugin.admin import LoginRequired, date_or_none, error_message, requested_page
from opiekun.plugins.ownership import periods, reports
from opiekun.plugins.ownership.admin.labels import KIND_LABELS, period_text, role_label

#: Rows on one page of the report.
PER_PAGE = 50


def reportable_users() -> list[User]:
    """Users offered in reports: departed ones too when the option says so."""
    statement = select(User).order_by(User.status, User.name, User.id)
    if not show_departed_users():
        statement = statement.where(User.status == "active")
    return list(db.session.scalars(statement))


class PortfolioFilter:
    """The report's question, from the page's query string (bad values: the defaults)."""

    def __init__(self, args):
        self.user_id = args.get("user_id", type=int)
        self.first_day = _day(args.get("from")) or periods.today()
        self.last_day = _day(args.get("to")) or self.first_day
        self.object_type = args.get("object_type") or None
        self.kind = args.get("kind") if args.get("kind") in KIND_LABELS else None

    def arguments(self, **changes: Any) -> dict[str, Any]:
        """The query string of this question (with ``changes``), for links."""
        arguments = {
            "user_id": self.user_id,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "object_type": self.object_type,
            "kind": self.kind,
        }
        return {key: value for key, value in {**arguments, **changes}.items() if value is not None}


def _day(text: str | None) -> dt.date | None:
    return date_or_none(text)


class RecordsByOwnerView(LoginRequired, BaseView):
    """The report's page and its Excel export."""

    def __init__(self):
        super().__init__(name=_l("Records by owner"), endpoint="ownership_report")

    @expose("/")
    def index(self):
        question = PortfolioFilter(request.args)
        page = requested_page()
        result, totals, error = None, {}, None
        if question.user_id is not None:
            try:
                totals = reports.portfolio_totals(
                    question.user_id, question.first_day, question.last_day, question.kind
                )
                result = reports.portfolio(
                    question.user_id,
                    question.first_day,
                    question.last_day,
                    question.kind,
                    question.object_type,
                    page=page,
                    per_page=PER_PAGE,
                )
            except DomainError as refusal:
                error = error_message(refusal)
        pages = -(-result.total // PER_PAGE) if result else 0
        return self.render(
            "ownership/records_by_owner.html",
            users=reportable_users(),
            question=question,
            result=result,
            totals=totals,
            error=error,
            page=page - 1,
            pages=pages,
            page_url=lambda number: url_for(".index", page=number + 1, **question.arguments()),
            export_url=url_for(".export", **question.arguments()),
            kind_labels=KIND_LABELS,
            registry=record_types(),
            user_label=user_label,
            role_label=role_label,
            period=period_text,
        )

    @expose("/export.xlsx")
    def export(self):
        """The whole list (every page) as an Excel workbook."""
        question = PortfolioFilter(request.args)
        if question.user_id is None:
            return self.index()
        try:
            rows = reports.whole_portfolio(
                question.user_id, question.first_day, question.last_day, question.kind, question.object_type
            )
            workbook = portfolio_workbook(rows)
        except DomainError:
            return self.index()
        stream = io.BytesIO()
        workbook.save(stream)
        stream.seek(0)
        name = f"{gettext('records-by-owner')}-{question.user_id}-{question.first_day}-{question.last_day}.xlsx"
        return send_file(
            stream,
            as_attachment=True,
            download_name=name,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


def portfolio_workbook(rows: Iterable[Row]) -> Workbook:
    """One sheet: record, type, owner kind, role, first and last day (user text inert)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("Records by owner")[:31])
    sheet.append(
        [
            gettext("Record"),
            gettext("Type"),
            gettext("Owner kind"),
            gettext("Owner role"),
            gettext("From"),
            gettext("To"),
        ]
    )
    registry = record_types()
    for row in rows:
        record_type = registry.get(row.object_type)
        sheet.append(
            [
                xlsx_text(row.object_name or ""),
                gettext(record_type.label) if record_type else row.object_type,
                str(KIND_LABELS.get(row.kind, row.kind)),
                xlsx_text(role_label(row.role)),
                row.valid_from,
                row.valid_to,
            ]
        )
    return workbook
