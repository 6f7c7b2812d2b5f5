"""The app factory: builds one Opiekun app from settings and the enabled plugins.

Nothing happens at import time; everything a plugin contributes is collected here,
through :class:`~opiekun.plugin_manager.PluginHost`.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from flask import Flask, redirect, url_for
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from opiekun import auth, changes, jobs
from opiekun.api import authenticate_api_request, build_api_blueprint
from opiekun.api.errors import Conflict, Message, error_response, install_error_handlers
from opiekun.api.spec import install_openapi
from opiekun.config import Settings
from flask_babel import Babel

from opiekun.extensions import csrf, db, login_manager, migrate
from opiekun.input_guards import install_input_guards
from opiekun.plugin_manager import PluginHost
from opiekun.record_types import RecordTypeRegistry

LANGUAGES = ("pl", "en")
CORE_FOLDER = Path(__file__).parent


def create_app(settings: Settings | None = None, extra_plugins: Iterable[ModuleType] = ()) -> Flask:
    """Build the app. ``settings`` default to the environment (``OPIEKUN_*``);
    ``extra_plugins`` are plugin modules used as if installed (embedding, tests)."""
    settings = settings or Settings.from_environment(Path.cwd() / "instance")
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask("opiekun", instance_path=str(settings.instance_path), root_path=str(CORE_FOLDER))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        LANGUAGES=LANGUAGES,
        BABEL_DEFAULT_LOCALE="pl",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    app.extensions["opiekun.settings"] = settings

    plugins = PluginHost.from_installed(settings.plugins, trace=settings.trace_hooks,
                                        extra_modules=[*settings.plugin_modules, *extra_plugins])
    app.extensions["opiekun.plugins"] = plugins
    plugins.load_models()
    registry = RecordTypeRegistry(plugins.record_types())
    app.extensions["opiekun.record_types"] = registry
    app.extensions["opiekun.permissions"] = {permission.name: permission for permission in plugins.permissions()}
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(_translation_folders(plugins))

    _init_database(app, plugins)
    _init_web(app, plugins, registry)
    jobs.init_jobs(app, settings.redis_url, plugins.jobs(), plugins.schedules())
    for command in plugins.cli_commands():
        app.cli.add_command(command)
    plugins.app_ready(app)
    return app


def _translation_folders(plugins: PluginHost) -> list[str]:
    """The core's message catalogs, then each enabled plugin's ``translations/`` folder."""
    folders = [str(CORE_FOLDER / "translations")]
    for plugin in plugins.plugins:
        module_file = getattr(plugin.module, "__file__", None)
        folder = Path(module_file).parent / "translations" if module_file else None
        if folder is not None and folder.is_dir():
            folders.append(str(folder))
    return folders


def _engine_options(database_url: str) -> dict:
    if database_url.startswith("sqlite"):
        # the embedded job thread and request threads share the file: wait for locks
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _init_database(app: Flask, plugins: PluginHost) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    migrate.init_app(app, db, directory=str(CORE_FOLDER / "migrations"))
    app.extensions["opiekun.migrations"] = plugins.migrations_dirs()
    changes.install_listeners()


def _init_web(app: Flask, plugins: PluginHost, registry: RecordTypeRegistry) -> None:
    from opiekun.admin import init_admin

    install_input_guards(app)  # first: its before_request precedes every other
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # a Babel of its own per app: Flask-Babel caches catalogs on the instance, and each app
    # has its own plugins' translation folders
    Babel(app, locale_selector=auth.select_locale)
    csrf.init_app(app)
    install_error_handlers(app)
    app.register_error_handler(IntegrityError, _integrity_error)

    api_blueprint = build_api_blueprint(registry)
    csrf.exempt(api_blueprint)
    app.before_request(authenticate_api_request)
    app.before_request(auth.admin_actor_middleware)
    app.teardown_request(auth.reset_actor)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(auth.pages)
    for blueprint in plugins.blueprints():
        if blueprint.name.startswith("api") or blueprint.url_prefix and blueprint.url_prefix.startswith("/api/"):
            csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    install_openapi(app)
    init_admin(app, plugins, registry)

    @app.get("/")
    def index():
        return redirect(url_for("admin.index"))

    @app.get("/health")
    def health():
        return {"status": "ok"}

    logging.getLogger("opiekun").setLevel(logging.INFO)


def _integrity_error(error: IntegrityError):
    """A unique or foreign-key rule of the database refused the change: nothing was saved."""
    db.session.rollback()
    from flask import request

    if request.path.startswith("/api/"):
        return error_response(Conflict(Message(
            "the change conflicts with existing data (a unique value is taken, or a linked record is missing)")))
    raise error
