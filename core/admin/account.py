"""The logged-in user's own page ("My account", in the user menu): who they are, their
password (changed through :func:`opiekun.users.change_password`, the API's rule: the
current password is asked), and what plugins show them about themselves (hook
``opiekun_admin_user_sections``: the tasks plugin's calendar link…). Every active user
has it, whatever their permissions."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from opiekun.admin.forms import AdminForm
from opiekun.admin.views import LoginRequired, attempt, language_choices, none_if_empty, time_zone_choices
from opiekun.labels import value_label
from opiekun.privileges import require_user_change_allowed
from opiekun.users import change_password


class PasswordForm(AdminForm):
    """One's own new password, twice, and the current one."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least 10 characters, not a common password."),
    )
    repeated = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
    )


class PreferencesForm(AdminForm):
    """The language and the time zone one reads the panel in."""

    locale = SelectField(_l("Language"), choices=language_choices, coerce=none_if_empty)
    time_zone = SelectField(_l("Time zone"), choices=time_zone_choices, coerce=none_if_empty)


class AccountView(LoginRequired, BaseView):
    """ "My account": reached from the user menu, not from the main menu."""

    def __init__(self):
        super().__init__(name=_l("My account"), endpoint="account")

    def is_visible(self) -> bool:
        return False

    @expose("/", methods=("GET",))
    def index(self):
        return self._render(PasswordForm())

    @expose("/preferences/", methods=("POST",))
    def preferences(self):
        """Change one's own language and time zone (the API's rule: one's own account)."""
        me = current_user._get_current_object()
        form = PreferencesForm(request.form)
        if form.validate():
            changes = {"locale": form.locale.data, "time_zone": form.time_zone.data}

            def save() -> None:
                require_user_change_allowed(me, me, changes)
                me.locale, me.time_zone = changes["locale"], changes["time_zone"]

            succeeded, _ = attempt(save)
            if succeeded:
                session.pop("language", None)  # the account's choice, from now on
                flash(gettext("Your preferences are saved."), "success")
                return redirect(url_for(".index"))
        return self._render(PasswordForm(), preferences=form)

    @expose("/password/", methods=("POST",))
    def password(self):
        """Change one's own password; this session stays, every other one and every API token ends."""
        form = PasswordForm(request.form)
        if form.validate():
            me = current_user._get_current_object()
            succeeded, _ = attempt(
                lambda: change_password(me, me, form.new_password.data, form.current_password.data),
                {
                    "password": str(form.new_password.label.text),
                    "current_password": str(form.current_password.label.text),
                },
            )
            if succeeded:
                login_user(me)  # this session goes on with the new password
                flash(gettext("Your password is changed. Other sessions and API tokens have ended."), "success")
                return redirect(url_for(".index"))
        return self._render(form)

    def _render(self, form: PasswordForm, preferences: PreferencesForm | None = None):
        me = current_user._get_current_object()
        return self.render(
            "opiekun/admin/account.html",
            me=me,
            role=value_label(me.role),
            form=form,
            preferences=preferences or PreferencesForm(obj=me),
            sections=current_app.extensions["opiekun.plugins"].admin_user_sections(me),
        )
