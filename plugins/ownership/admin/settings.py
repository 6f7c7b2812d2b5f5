"""The ownership settings pages (admins only): per record type and the owner roles."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from opiekun.plugin import record_types, show_departed_users
from opiekun.plugin.admin import ADMINISTRATION_CATEGORY, AdminForm, LoginRequired, commit_or_report, role_choices
from opiekun.plugins.ownership import settings
from opiekun.plugins.ownership.permissions import MANAGE_SETTINGS


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
