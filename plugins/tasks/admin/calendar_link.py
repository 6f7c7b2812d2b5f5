"""The calendar feed on the user's own page ("My account"): the address a calendar app
subscribes to (copy it), and a new address that revokes the old one — the API's
``calendar-token`` endpoints, through the same service (:mod:`..services.calendar`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from opiekun.plugin import User
from opiekun.plugin.admin import LoginRequired, attempt
from opiekun.plugins.tasks.admin.viewer import viewer
from opiekun.plugins.tasks.calendar_feed import feed_url
from opiekun.plugins.tasks.services import calendar


def calendar_section(user: User) -> list[tuple[str, Markup]]:
    """The section on one's own page only: a calendar link is personal (it reads what its
    holder may see), so nobody is shown another user's."""
    if user.id != current_user.id:
        return []
    html = render_template(
        "tasks/calendar_link.html",
        url=feed_url(user.id, calendar.calendar_token(user)),
        rotate_url=url_for("task_calendar_link.rotate"),
    )
    return [(gettext("Calendar"), Markup(html))]


class CalendarLinkView(LoginRequired, BaseView):
    """Regenerating one's calendar link (not in the menu)."""

    def __init__(self):
        super().__init__(name=_l("Calendar link"), endpoint="task_calendar_link")

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        """The link lives on "My account"."""
        abort(404)

    @expose("/rotate/", methods=("POST",))
    def rotate(self):
        """A new link for the logged-in user; calendars subscribed to the old one stop updating."""
        succeeded, _ = attempt(lambda: calendar.rotate_calendar_token(viewer()))
        if succeeded:
            flash(gettext("A new calendar link is ready; the old one no longer works."), "success")
        return redirect(url_for("account.index"))
