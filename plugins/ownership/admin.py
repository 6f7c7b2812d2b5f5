"""Ownership in the admin panel: "Change owner…" on every record list (ticked rows or every
record matching the filter), the "Owners" section of every record's page, the "Records by
owner" report, and the settings (admins only). Thin: the rules live below the web, in the
plugin's other modules."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from opiekun.admin.actions import BulkAction, RecordSelection
from opiekun.admin.forms import AdminForm, active_users
from opiekun.admin.views import ADMINISTRATION_CATEGORY, LoginRequired, commit_or_report, role_choices
from opiekun.extensions import db
from opiekun.labels import user_label
from opiekun.models import User
from opiekun.plugins.ownership import assignments, periods, reports, rights, settings
from opiekun.plugins.ownership.models import OwnerAssignment
from opiekun.plugins.ownership.permissions import MANAGE_SETTINGS
from opiekun.record_registry import RecordType, record_types
from opiekun.users import show_departed_users

KIND_LABELS = {"primary": _l("Primary owner"), "deputy": _l("Deputy")}
POLICY_LABELS = {
    "keep": _l("Keep the current owner"),
    "warn": _l("Warn and change nothing"),
    "replace": _l("Replace without warning"),
}
ACCESS_LABELS = {"write": _l("Read and change"), "read": _l("Read only")}


def _choices(labels: dict) -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in labels.items()]


def _role_choices() -> list[tuple[str, str]]:
    return [(role, role) for role in settings.owner_roles()]


def reportable_users() -> list[User]:
    """Users offered in reports: departed ones too when the option says so."""
    statement = select(User).order_by(User.status, User.name, User.id)
    if not show_departed_users():
        statement = statement.where(User.status == "active")
    return list(db.session.scalars(statement))


# --- "Change owner…" -------------------------------------------------------------------------


def change_owner_form() -> type:
    """enova365's "Dodaj opiekuna" form: operator, kind, role, dates, overlap policy."""

    class ChangeOwnerForm(AdminForm):
        user = QuerySelectField(
            _l("New owner"), query_factory=active_users, get_label=user_label, validators=[DataRequired()]
        )
        kind = SelectField(_l("Owner kind"), choices=_choices(KIND_LABELS), default="primary")
        role = SelectField(_l("Owner role"), choices=_role_choices)
        valid_from = DateField(_l("From"), default=periods.today, validators=[DataRequired()])
        valid_to = DateField(_l("To (empty: indefinite)"), validators=[Optional()])
        on_overlap = SelectField(_l("When periods overlap"), choices=_choices(POLICY_LABELS), default="replace")
        access = SelectField(_l("Deputy's access"), choices=_choices(ACCESS_LABELS), default="write")

    return ChangeOwnerForm


def change_owner(record_type: RecordType, selection: RecordSelection, values: dict[str, Any]) -> str:
    request = assignments.AssignmentRequest(
        object_type=record_type.name,
        user_id=values["user"].id,
        kind=values["kind"],
        role=values["role"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        access=values["access"] if values["kind"] == "deputy" else "write",
        on_overlap=values["on_overlap"],
        object_ids=selection.ids,
        condition=selection.condition if selection.whole_list else None,
    )
    counts = assignments.assign_owners(request, current_user._get_current_object())
    return gettext(
        "Owner changed: %(created)d assigned, %(skipped)d kept, %(replaced)d earlier period(s) ended.",
        created=counts.created,
        skipped=counts.skipped,
        replaced=counts.replaced,
    )


def change_owner_action(record_type: RecordType) -> BulkAction:
    return BulkAction(
        "ownership_change_owner",
        _l("Change owner…"),
        change_owner,
        form=change_owner_form,
        whole_list=True,
        allowed=lambda user, type_: settings.may_change_owners(user, type_.name),
    )


# --- the "Owners" section of a record's page ------------------------------------------------


def _period(assignment: OwnerAssignment) -> str:
    end = assignment.valid_to.isoformat() if assignment.valid_to else gettext("indefinite")
    return f"{assignment.valid_from.isoformat()} – {end}"


def owners_section(record_type: RecordType, record: Any) -> tuple[str, Markup]:
    """The record's whole ownership history, oldest period first; today's marked."""
    today = periods.today()
    rows = Markup("").join(
        Markup('<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>').format(
            "table-success" if assignment.in_force_on(today) else "",
            user_label(assignment.user),
            KIND_LABELS.get(assignment.kind, assignment.kind),
            assignment.role,
            _period(assignment),
            ACCESS_LABELS.get(assignment.access, assignment.access),
        )
        for assignment in reports.history(record_type, record.id)
    )
    if not rows:
        rows = Markup('<tr><td colspan="5">{}</td></tr>').format(gettext("Nobody has owned this record yet."))
    table = Markup(
        '<table class="table table-sm table-bordered" id="ownership-history"><thead><tr>'
        "<th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>"
    ).format(gettext("User"), gettext("Owner kind"), gettext("Owner role"), gettext("Period"), gettext("Access"), rows)
    return gettext("Owners"), table


# --- the owner field of record forms ------------------------------------------------------------


def lock_owner_field(record_type: RecordType, form: Any, record: Any | None) -> None:
    """The owner field is read-only for whom may not choose it: a role that may not change
    owners of ``record_type`` (on a new record the owner is then the user themselves), and a
    deputy on the record it stands in for. The browser then sends no owner, and the record
    keeps (or gets) that owner; an owner posted anyway is refused under the field."""
    if not hasattr(form, "owner"):
        return
    user = current_user._get_current_object()
    if record is None:
        owner_id = user.id
        locked = not settings.may_change_owners(user, record_type.name)
    else:
        owner_id = record.owner_id
        locked = not settings.may_change_owners(user, record_type.name) or rights.only_a_deputy(
            user, record_type, record.id, record.owner_id
        )
    if not locked:
        return
    if request.method == "POST" and "owner" not in request.form:
        del form.owner  # nothing to save: the owner stays as it is (a new record's is its creator)
        return
    if settings.may_change_owners(user, record_type.name):
        message = gettext("You are a deputy here: you may edit this record but not change its owner.")
    else:
        message = gettext(
            "Your role may not change the owner here; an admin chooses who may in the ownership settings."
        )
    form.owner.render_kw = {**(form.owner.render_kw or {}), "disabled": True}
    form.owner.description = message
    form.owner.validators = [*form.owner.validators, _keeps_owner(owner_id, message)]


def _keeps_owner(owner_id: int | None, message: str):
    """A field validator: the chosen user must be the record's current owner."""

    def check(form, field) -> None:
        if (field.data.id if field.data is not None else None) != owner_id:
            raise ValidationError(message)

    return check


# --- report and settings ----------------------------------------------------------------------


class RecordsByOwnerView(LoginRequired, BaseView):
    """enova365's "Kontrahenci wg opiekuna": what a user looked after in a period."""

    def __init__(self):
        super().__init__(name=_l("Records by owner"), endpoint="ownership_report")

    @expose("/")
    def index(self):
        users = reportable_users()
        user_id = request.args.get("user_id", type=int)
        first_day = _date_arg("from") or periods.today()
        last_day = _date_arg("to") or first_day
        items, error = [], None
        if user_id is not None:
            try:
                result = reports.portfolio(user_id, first_day, last_day, per_page=1000)
                items = [(row, row.object_name or "") for row in result.items]
            except Exception as problem:  # noqa: BLE001 - shown to the user; nothing was changed
                error = getattr(problem, "message", str(problem))
        return self.render(
            "ownership/records_by_owner.html",
            users=users,
            user_id=user_id,
            first_day=first_day,
            last_day=last_day,
            items=items,
            error=error,
            kind_labels=KIND_LABELS,
            registry=record_types(),
            user_label=user_label,
            period=_period,
        )


def _date_arg(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


class SettingsForm(AdminForm):
    owner_required = BooleanField(_l("Owner required"))
    inactivity_days = IntegerField(
        _l("Release the owner after days without activity (empty: never)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )
    change_roles = SelectMultipleField(
        _l("Roles that may change owners (none ticked: every role)"), choices=role_choices
    )


class OptionsForm(AdminForm):
    roles = StringField(_l("Owner roles (comma separated)"), validators=[DataRequired()])
    show_departed = BooleanField(_l("Show departed users in owner filters and reports"))


class OwnershipSettingsView(LoginRequired, BaseView):
    """Settings per record type and the owner roles; admins only (:data:`MANAGE_SETTINGS`)."""

    required_permission = MANAGE_SETTINGS.name

    def __init__(self):
        super().__init__(name=_l("Ownership"), category=ADMINISTRATION_CATEGORY, endpoint="ownership_settings")

    @expose("/", methods=("GET", "POST"))
    def index(self):
        options = OptionsForm(
            request.form if request.method == "POST" else None,
            data={"roles": ", ".join(settings.owner_roles()), "show_departed": show_departed_users()},
        )
        if (
            request.method == "POST"
            and options.validate()
            and commit_or_report(
                lambda: (
                    settings.update_options(options.roles.data.split(","), options.show_departed.data)
                    or gettext("Saved.")
                )
            )
        ):
            return redirect(url_for(".index"))
        types = [(record_type, settings.settings_for(record_type.name)) for record_type in record_types()]
        return self.render("ownership/settings.html", options=options, types=types)

    @expose("/<object_type>/", methods=("GET", "POST"))
    def edit(self, object_type: str):
        record_type = record_types().get(object_type)
        if record_type is None:
            flash(gettext("Unknown record type."), "error")
            return redirect(url_for(".index"))
        current = settings.settings_for(object_type)
        form = SettingsForm(
            request.form if request.method == "POST" else None,
            data={
                "owner_required": current.owner_required,
                "inactivity_days": current.inactivity_days,
                "change_roles": current.change_roles or [],
            },
        )
        if request.method == "POST" and form.validate():
            values = {
                "owner_required": form.owner_required.data,
                "inactivity_days": form.inactivity_days.data,
                "change_roles": form.change_roles.data or None,
            }
            if commit_or_report(lambda: settings.update_settings(object_type, values) and gettext("Saved.")):
                return redirect(url_for(".index"))
        return self.render("ownership/settings_edit.html", form=form, record_type=record_type)


def admin_views() -> list[BaseView]:
    return [RecordsByOwnerView(), OwnershipSettingsView()]
