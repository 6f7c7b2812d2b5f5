"""The app factory: builds one Opiekun app from settings and the enabled plugins.

Nothing happens at import time; everything a plugin contributes is collected here,
through :class:`~opiekun.plugin_manager.PluginHost`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from flask import Flask, redirect, url_for
from flask_babel import Babel
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from werkzeug.middleware.proxy_fix import ProxyFix

from opiekun import auth, changes, jobs, login_sessions, migration_runner, search
from opiekun.api import authenticate_api_request, build_api_blueprint
from opiekun.api.errors import error_response, install_error_handlers
from opiekun.api.spec import install_openapi
from opiekun.config import Settings, make_instance_folder
from opiekun.error_pages import error_page
from opiekun.errors import Conflict, Message
from opiekun.extensions import csrf, db, login_manager, migrate
from opiekun.input_guards import install_input_guards
from opiekun.labels import LANGUAGES
from opiekun.login_throttle import init_login_throttle
from opiekun.plugin_manager import PluginHost
from opiekun.record_registry import RecordTypeRegistry
from opiekun.replica import REPLICA
from opiekun.security_headers import install_security_headers

CORE_FOLDER = Path(__file__).parent


def create_app(settings: Settings | None = None, extra_plugins: Iterable[ModuleType] = ()) -> Flask:
    """Build the app. ``settings`` default to the environment (``OPIEKUN_*``);
    ``extra_plugins`` are plugin modules used as if installed (embedding, tests)."""
    settings = settings or Settings.from_environment(Path.cwd() / "instance")
    make_instance_folder(settings.instance_path)
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
        EXACT_COUNT_LIMIT=settings.exact_count_limit,
        SQLALCHEMY_BINDS=_replica_bind(settings),
        DATABASE_REPLICA_MAX_LAG=settings.database_replica_max_lag,
        **_cookie_config(settings),
    )
    app.extensions["opiekun.settings"] = settings
    if settings.trusted_proxies:
        # the client's address (login throttling) and https (secure cookies) from the proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)

    plugins = PluginHost.from_installed(
        settings.plugins,
        trace=settings.trace_hooks,
        extra_modules=[*settings.plugin_modules, *extra_plugins],
        disabled=settings.plugins_disabled,
    )
    app.extensions["opiekun.plugins"] = plugins
    plugins.load_models()
    registry = RecordTypeRegistry(plugins.record_types())
    registry.added_fields = {record_type.name: plugins.record_fields(record_type) for record_type in registry}
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


def plugin_folders(plugins: PluginHost, name: str) -> list[str]:
    """Each enabled plugin's folder ``name`` (beside its module), where it has one."""
    folders = []
    for plugin in plugins.plugins:
        module_file = getattr(plugin.module, "__file__", None)
        folder = Path(module_file).parent / name if module_file else None
        if folder is not None and folder.is_dir():
            folders.append(str(folder))
    return folders


def _translation_folders(plugins: PluginHost) -> list[str]:
    """The core's message catalogs, then each enabled plugin's ``translations/`` folder."""
    return [str(CORE_FOLDER / "translations"), *plugin_folders(plugins, "translations")]


def _find_plugin_templates(app: Flask, plugins: PluginHost) -> None:
    """Page templates are found by convention, like catalogs: the core's ``templates/``,
    then each enabled plugin's ``templates/`` folder (a plugin keeps its pages under
    ``templates/<plugin>/`` so names never collide)."""
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(str(CORE_FOLDER / "templates")), FileSystemLoader(plugin_folders(plugins, "templates"))]
    )


def _cookie_config(settings: Settings) -> dict:
    """The session cookie: not readable by scripts, not sent on cross-site posts, HTTPS only
    when configured; it lasts as long as the idle timeout. Flask-Login's remember cookie
    is not used (no login sets it), and is configured the same way anyway."""
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "PERMANENT_SESSION_LIFETIME": idle,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": settings.secure_cookies,
        "REMEMBER_COOKIE_DURATION": idle,
    }


def _replica_bind(settings: Settings) -> dict:
    """The replica as a bind of its own (:mod:`opiekun.replica`), when one is configured."""
    if not settings.database_replica_url:
        return {}
    options = _engine_options(settings.database_replica_url)
    # a replica that does not answer is skipped (opiekun.replica): after 2 s, not the OS's minutes
    options["connect_args"] = {"connect_timeout": 2}
    return {REPLICA: {"url": settings.database_replica_url, **options}}


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


def _create_sqlite_file(database_url: str) -> None:
    """Make a new SQLite database file readable by its owner only (0600) before SQLite
    creates it with the umask's mode (its -wal and -shm files take the file's mode)."""
    path = make_url(database_url).database
    if not path or path == ":memory:" or path.startswith("file:") or not Path(path).parent.is_dir():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _init_database(app: Flask, plugins: PluginHost) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _create_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "connect", search.register_sqlite_function)
    migrate.init_app(app, db, directory=str(CORE_FOLDER / "migrations"))
    migration_runner.give_alembic_every_branch()
    app.extensions["opiekun.migrations"] = plugins.migrations_dirs()
    app.extensions["opiekun.dormant_migrations"] = plugins.dormant_migrations_dirs()
    changes.install_listeners()


def _init_web(app: Flask, plugins: PluginHost, registry: RecordTypeRegistry) -> None:
    from opiekun.admin import init_admin

    install_input_guards(app)  # first: its before_request precedes every other
    _find_plugin_templates(app, plugins)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # a Babel of its own per app: Flask-Babel caches catalogs on the instance, and each app
    # has its own plugins' translation folders
    Babel(app, locale_selector=auth.select_locale, timezone_selector=auth.select_time_zone)
    csrf.init_app(app)
    install_error_handlers(app, page_for=error_page)
    app.register_error_handler(IntegrityError, _integrity_error)

    api_blueprint = build_api_blueprint(registry)
    csrf.exempt(api_blueprint)
    app.before_request(authenticate_api_request)
    app.before_request(login_sessions.keep_alive)
    app.before_request(auth.admin_actor_middleware)
    app.teardown_request(auth.reset_actor)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(auth.pages)
    for blueprint in plugins.blueprints():
        if blueprint.name.startswith("api") or blueprint.url_prefix and blueprint.url_prefix.startswith("/api/"):
            csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    install_openapi(app)
    init_login_throttle(app, app.extensions["opiekun.settings"])
    install_security_headers(app, https=app.extensions["opiekun.settings"].secure_cookies)
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
        return error_response(
            Conflict(
                Message(
                    "the change conflicts with existing data (a unique value is taken, or a linked record is missing)"
                )
            )
        )
    raise error
