"""The admin panel at ``/admin`` (Flask-Admin): record lists for every record type, users,
roles, pipelines, notifications and the plugins page; plugins add their views through a
hook. Everything is built per app by :func:`init_admin`: nothing here is bound to one app.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response
from flask_admin import Admin, BaseView
from flask_admin import babel as flask_admin_babel
from flask_admin.theme import Bootstrap4Theme
from flask_babel import get_locale

from opiekun.admin.account import AccountView
from opiekun.admin.dates import date_placeholder, date_text, picker_settings
from opiekun.admin.home import format_count
from opiekun.admin.views import (
    PANEL_VIEWS,
    HomeView,
    LoginRequired,
    NotificationsView,
    PipelineView,
    PluginsView,
    RecordView,
    RoleView,
    UserView,
    panel_views,
)
from opiekun.errors import translated
from opiekun.labels import LANGUAGE_NAMES

__all__ = ["LoginRequired", "RecordView", "init_admin", "panel_views"]

BASE_TEMPLATE = "opiekun/admin/master.html"
#: Corrections to Flask-Admin's own texts (domain ``admin``), read before its catalogs.
FLASK_ADMIN_TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations_flask_admin"


class CorrectedFlaskAdminTexts(type(flask_admin_babel.domain)):
    """Flask-Admin's message domain with our corrections winning. Flask-Admin lists a
    ``translations_path`` first, but Babel's merge lets the later catalog (its own) win,
    and its catalogs are cached by whichever page asked first (with no view: without our
    folder). Here our folder always comes, and comes last."""

    @property
    def translation_directories(self) -> list[str]:
        ours = str(FLASK_ADMIN_TRANSLATIONS)
        return [folder for folder in super().translation_directories if folder != ours] + [ours]


def _correct_flask_admin_texts() -> None:
    """Flask-Admin's gettext functions are bound to one module-level domain: give it the
    corrected lookup (once per process; every app uses the same corrections)."""
    domain = flask_admin_babel.domain
    if not isinstance(domain, CorrectedFlaskAdminTexts):
        domain.__class__ = CorrectedFlaskAdminTexts
        domain.cache.clear()


def init_admin(app: Flask, plugins, registry) -> Admin:
    """Build the panel of ``app``: the core's views, one record view per record type (its
    ``admin_view`` or :class:`RecordView`), then the views plugins contribute. The views
    are kept for :func:`panel_views` in the order they were added."""
    _correct_flask_admin_texts()
    index_view = HomeView(url="/admin")
    admin = Admin(
        app,
        name="Opiekun",
        index_view=index_view,
        theme=Bootstrap4Theme(swatch="default", fluid=True, base_template=BASE_TEMPLATE),
    )
    views: list[BaseView] = [index_view]
    app.extensions[PANEL_VIEWS] = views

    def add(view: BaseView) -> None:
        admin.add_view(view)
        views.append(view)

    # Views read the app's plugins and record types while they are built.
    with app.app_context():
        for record_type in registry:
            add((record_type.admin_view or RecordView)(record_type))
        add(NotificationsView())
        add(PipelineView())
        add(UserView())
        add(RoleView())
        add(PluginsView())
        add(AccountView())
        for view in plugins.admin_views(admin):
            add(view)
    app.context_processor(_language_context)
    app.jinja_env.filters["count_format"] = format_count
    app.jinja_env.globals.update(
        date_picker_settings=picker_settings,
        date_text=date_text,
        date_placeholder=date_placeholder,
        translated=translated,  # a Message (a refusal, a plugin's state) in the user's language
    )
    app.after_request(_declare_page_language)
    app.extensions["opiekun.admin"] = admin
    return admin


def _declare_page_language(response: Response) -> Response:
    """Say in which language a page is written: ``<html lang="pl">`` (screen readers,
    spelling, hyphenation) and ``Content-Language``. Flask-Admin's base template writes a
    bare ``<html>`` with no block around it, so the tag is completed here."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    language = str(get_locale() or "pl")
    response.headers.setdefault("Content-Language", language)
    body = response.get_data()
    if b"<html>" in body[:200]:
        response.set_data(body.replace(b"<html>", f'<html lang="{language}">'.encode(), 1))
    return response


def _language_context() -> dict:
    """The page's language and the languages to switch to (for the menu and login page)."""
    return {"current_language": str(get_locale() or "pl"), "language_names": LANGUAGE_NAMES}
