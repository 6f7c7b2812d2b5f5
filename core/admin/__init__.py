"""The admin panel at ``/admin`` (Flask-Admin): record lists for every record type, users,
pipelines and the plugins page; plugins add their views through a hook."""
from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user


class LoginRequired:
    """Mixin: the view needs an active logged-in user."""

    def is_accessible(self) -> bool:
        return bool(current_user and current_user.is_authenticated and current_user.status == "active")

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))


class HomeView(LoginRequired, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/index.html")


def init_admin(app: Flask, plugins, registry) -> Admin:
    admin = Admin(app, name="Opiekun", index_view=HomeView(url="/admin"), theme=Bootstrap4Theme(swatch="default"))
    from opiekun.extensions import db

    class RecordView(LoginRequired, ModelView):
        page_size = 50

    for record_type in registry:
        admin.add_view(RecordView(record_type.model, db.session, name=record_type.label_plural, endpoint=record_type.name))
    for view in plugins.admin_views(admin):
        admin.add_view(view)
    app.extensions["opiekun.admin"] = admin
    return admin
