"""The owners of one record, from its page: add a primary or deputy period, change or end
one, and see who owned the record on a chosen day. The "Owners" section lists the periods
with their buttons; the forms post to :class:`OwnerPeriodsView`, which calls the same
services as the API (:mod:`opiekun.plugins.ownership.assignments`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectField
from wtforms.validators import DataRequired, Optional

from opiekun.plugin import Conflict, DomainError, RecordType, User, db, find_by_id, record_types, user_label
from opiekun.plugin.admin import (
    AdminForm,
    LocalDateField,
    LoginRequired,
    active_users,
    attempt,
    date_or_none,
    error_message,
)
from opiekun.plugins.ownership import assignments, periods, reports
from opiekun.plugins.ownership.admin.change_owner import assignment_request, outcome_message
from opiekun.plugins.ownership.admin.labels import (
    ACCESS_LABELS,
    KIND_LABELS,
    POLICY_LABELS,
    choices,
    period_text,
    role_choices,
    role_label,
)
from opiekun.plugins.ownership.models import OwnerAssignment
from opiekun.plugins.ownership.rights import may_change_owners_of


class AddPeriodForm(AdminForm):
    """A new period of one record (the bulk form's fields, for one record)."""

    user = QuerySelectField(_l("User"), query_factory=active_users, get_label=user_label, validators=[DataRequired()])
    kind = SelectField(_l("Owner kind"), choices=choices(KIND_LABELS), default="primary")
    role = SelectField(_l("Owner role"), choices=role_choices)
    access = SelectField(_l("Deputy's access"), choices=choices(ACCESS_LABELS), default="write")
    valid_from = LocalDateField(_l("From"), default=periods.today, validators=[DataRequired()])
    valid_to = LocalDateField(_l("To (empty: indefinite)"), validators=[Optional()])
    on_overlap = SelectField(_l("When periods overlap"), choices=choices(POLICY_LABELS), default="warn")


class EditPeriodForm(AdminForm):
    """One period's user, role, access (deputies) and dates."""

    user = QuerySelectField(_l("User"), query_factory=active_users, get_label=user_label, validators=[DataRequired()])
    role = SelectField(_l("Owner role"), choices=role_choices)
    access = SelectField(_l("Deputy's access"), choices=choices(ACCESS_LABELS))
    valid_from = LocalDateField(_l("From"), validators=[DataRequired()])
    valid_to = LocalDateField(_l("To (empty: indefinite)"), validators=[Optional()])


# --- the "Owners" section of a record's page ------------------------------------------------


def owners_section(record_type: RecordType, record: Any) -> tuple[str, Markup]:
    """The record's periods, oldest first (today's marked), with their buttons for whom may
    change them, and the owner on the day chosen in the section's date field."""
    user = current_user._get_current_object()
    day = _day_arg("owners_on") or periods.today()
    html = render_template(
        "ownership/owners_section.html",
        record_type=record_type,
        record=record,
        history=reports.history(record_type, record.id),
        on_day=reports.owners_on(record_type, record.id, day),
        day=day,
        today=periods.today(),
        editable=may_change_owners_of(user, record_type, record.id),
        kind_labels=KIND_LABELS,
        access_labels=ACCESS_LABELS,
        period_text=period_text,
        role_label=role_label,
        user_label=user_label,
    )
    return gettext("Owners"), Markup(html)


def _day_arg(name: str) -> dt.date | None:
    return date_or_none(request.args.get(name))


# --- the forms ---------------------------------------------------------------------------------


class OwnerPeriodsView(LoginRequired, BaseView):
    """The pages behind the "Owners" section's buttons (not in the menu)."""

    def __init__(self):
        super().__init__(name=_l("Owner periods"), endpoint="ownership_periods")

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        """Nothing to show on its own: the pages open from a record's "Owners" section."""
        abort(404)

    @expose("/add/<object_type>/<int:object_id>/", methods=("GET", "POST"))
    def add(self, object_type: str, object_id: int):
        """A new primary or deputy period of one record. ``warn`` with overlapping periods
        asks whether to replace them, listing them; nothing is saved until confirmed."""
        record_type, record = self._record(object_type, object_id)
        form = AddPeriodForm(request.form if request.method == "POST" else None)
        conflicts: list[dict[str, Any]] = []
        if request.method == "POST" and form.validate():
            values = {key: field.data for key, field in form._fields.items() if key != "csrf_token"}
            if request.form.get("confirm") == "replace":
                values["on_overlap"] = "replace"
            done, conflicts = self._assign(record_type, record, values)
            if done:
                return redirect(record_type.admin_url(record.id))
        return self.render(
            "ownership/period_form.html",
            form=form,
            record_type=record_type,
            record=record,
            title=gettext("Add an owner or deputy"),
            conflicts=conflicts,
        )

    def _assign(self, record_type: RecordType, record: Any, values: dict[str, Any]) -> tuple[bool, list[dict]]:
        """Run the request; ``(True, [])`` when saved, ``(False, conflicts)`` when the warn
        policy met periods (the page then asks), ``(False, [])`` when refused (flashed)."""
        request_ = assignment_request(record_type, values, object_ids=[record.id])
        try:
            counts = assignments.assign_owners(request_, current_user._get_current_object())
            db.session.commit()
        except Conflict as conflict:
            db.session.rollback()
            if values["on_overlap"] == "warn" and conflict.details.get("conflicts"):
                return False, [_described(row) for row in conflict.details["conflicts"]]
            _flash_refusal(conflict)
            return False, []
        except DomainError as refusal:
            db.session.rollback()
            _flash_refusal(refusal)
            return False, []
        flash(outcome_message(values["kind"], counts), "success")
        return True, []

    @expose("/<int:assignment_id>/edit/", methods=("GET", "POST"))
    def edit(self, assignment_id: int):
        """Change one period: its user, role, access (a deputy's) and dates."""
        assignment, record_type, record = self._period(assignment_id)
        form = EditPeriodForm(request.form if request.method == "POST" else None, obj=assignment)
        if assignment.kind == "primary":
            del form.access  # a primary owner always has write access
        if request.method == "POST" and form.validate():
            values = {key: field.data for key, field in form._fields.items() if key != "csrf_token"}
            values["user_id"] = values.pop("user").id
            succeeded, _ = attempt(
                lambda: assignments.change_assignment(assignment, values, current_user._get_current_object())
            )
            if succeeded:
                flash(gettext("The period is saved."), "success")
                return redirect(record_type.admin_url(record.id))
        return self.render(
            "ownership/period_form.html",
            form=form,
            record_type=record_type,
            record=record,
            title=gettext(
                "Change the period: %(kind)s %(user)s",
                kind=KIND_LABELS[assignment.kind],
                user=user_label(assignment.user),
            ),
            conflicts=[],
            assignment=assignment,
        )

    @expose("/<int:assignment_id>/end/", methods=("POST",))
    def end(self, assignment_id: int):
        """End the period on the day chosen (its last day; today by default)."""
        assignment, record_type, record = self._period(assignment_id)
        last_day = _form_day("last_day") or periods.today()
        succeeded, _ = attempt(
            lambda: assignments.change_assignment(
                assignment, {"valid_to": last_day}, current_user._get_current_object()
            )
        )
        if succeeded:
            flash(gettext("The period ends on %(day)s.", day=format_date(last_day, "short")), "success")
        return redirect(record_type.admin_url(record.id))

    @expose("/<int:assignment_id>/delete/", methods=("POST",))
    def delete(self, assignment_id: int):
        """Remove a period entered by mistake (the record's history keeps that it existed)."""
        assignment, record_type, record = self._period(assignment_id)
        succeeded, _ = attempt(lambda: assignments.remove_assignment(assignment, current_user._get_current_object()))
        if succeeded:
            flash(gettext("The period is removed."), "success")
        return redirect(record_type.admin_url(record.id))

    # --- lookups: 404 for what does not exist, 403 for what the user may not change ---

    def _record(self, object_type: str, object_id: int) -> tuple[RecordType, Any]:
        record_type = record_types().get(object_type)
        record = find_by_id(record_type.model, object_id) if record_type is not None else None
        if record is None:
            abort(404)
        if not may_change_owners_of(current_user._get_current_object(), record_type, record.id):
            abort(403)
        return record_type, record

    def _period(self, assignment_id: int) -> tuple[OwnerAssignment, RecordType, Any]:
        assignment = find_by_id(OwnerAssignment, assignment_id)
        if assignment is None:
            abort(404)
        record_type, record = self._record(assignment.object_type, assignment.object_id)
        return assignment, record_type, record


def _form_day(name: str) -> dt.date | None:
    return date_or_none(request.form.get(name))


def _flash_refusal(error: DomainError) -> None:
    flash(error_message(error), "error")


def _described(conflict: dict[str, Any]) -> dict[str, Any]:
    """A conflicting period as the question lists it: whose, which kind, which days."""
    user = find_by_id(User, conflict["user_id"])
    end = conflict["valid_to"] or gettext("indefinite")
    return {
        "user": user_label(user) if user else str(conflict["user_id"]),
        "kind": KIND_LABELS.get(conflict["kind"], conflict["kind"]),
        "period": f"{conflict['valid_from']} – {end}",
    }
