"""The ``opiekun`` command line: init, create-admin, demo, serve, worker, scheduler, plugins,
openapi.

Built on Flask's CLI, so each command runs with the app (and its enabled plugins) loaded;
plugins add commands through the ``opiekun_cli_commands`` hook.
"""

from __future__ import annotations

import multiprocessing
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from opiekun.config import ConfigurationError
from opiekun.plugin_manager import PluginError


def _create_app():
    from opiekun.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def cli() -> None:
    """Opiekun — CRM back office. Configure with OPIEKUN_* environment variables."""


@cli.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the schema of the core and every enabled plugin; on a database
    without any pipeline, create the default sales pipeline."""
    from opiekun.extensions import db
    from opiekun.migration_runner import SchemaError, dormant_states, upgrade_schema
    from opiekun.sales_pipeline import ensure_default_pipeline

    try:
        upgrade_schema()
    except SchemaError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"schema is up to date ({', '.join(['core', *current_app.extensions['opiekun.plugins'].names])})")
    for state in dormant_states():
        click.echo(
            f"plugin {state.name} is off: its tables and data are kept (revision {state.database_revision}); "
            "switch it on again to use them"
        )
    _catch_up_resumed_plugins()
    pipeline = ensure_default_pipeline()
    db.session.commit()
    if pipeline is not None:
        stages = ", ".join(stage.name for stage in pipeline.stages)
        click.echo(f"default sales pipeline created: {pipeline.name} ({stages})")


def _catch_up_resumed_plugins() -> None:
    """Plugins back after being off catch up with the records changed meanwhile."""
    from opiekun.plugin_activity import note_plugin_activity, reconcile_resumed_plugins, span_text, summary_lines
    from opiekun.plugin_manager import PluginError

    def report(gap) -> None:
        click.echo(f"plugin {gap.plugin} is back (off {span_text(gap)}); caught up with the records changed meanwhile:")
        for line in summary_lines(gap) or ["nothing to change"]:
            click.echo(f"    {line}")

    note_plugin_activity()
    try:
        reconcile_resumed_plugins(report)
    except PluginError as error:
        raise click.ClickException(str(error)) from error


def _check_before_running() -> None:
    """``serve``, ``worker`` and ``scheduler`` start only on a schema the code can use (a
    plugin switched on, or an upgrade, needs ``opiekun init`` first). They note which
    plugins run (a plugin off since the last start begins a time off, one back ends it —
    other commands, run with other settings for a look, do not count); a plugin back from
    a time off that has not caught up yet is said, not refused."""
    from sqlalchemy.exc import SQLAlchemyError

    from opiekun.migration_runner import outdated_branches
    from opiekun.plugin_activity import note_plugin_activity, pending_gaps

    try:
        outdated = outdated_branches()
    except SQLAlchemyError as error:
        raise click.ClickException(f"the database cannot be read: {error}") from error
    if outdated:
        described = ", ".join(
            f"{state.name} (database {state.database_revision or 'none'}, code {state.code_revision})"
            for state in outdated
        )
        raise click.ClickException(f"the database schema is behind the code: {described}; run opiekun init first")
    note_plugin_activity()
    for name in sorted({gap.plugin for gap in pending_gaps()}):
        click.echo(
            f"warning: plugin {name} is back after a time off but has not caught up with the records "
            "changed meanwhile: run opiekun init",
            err=True,
        )


@cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="Administrator", show_default=True)
@with_appcontext
def create_admin_command(email: str, password: str, name: str) -> None:
    """Create an admin user, or reset that admin's password."""
    from opiekun.auth import find_user_by_email
    from opiekun.extensions import db
    from opiekun.models import User
    from opiekun.passwords import password_problem

    problem = password_problem(password)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="--password")
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email.strip().lower(), name=name, role="admin", status="active")
        db.session.add(user)
        verb = "created"
    else:
        user.role, user.status, user.departed_at = "admin", "active", None
        verb = "updated"
    user.set_password(password)
    db.session.commit()
    click.echo(f"admin {user.email} {verb}")


@cli.command("demo")
@click.option("--companies", default=300, show_default=True, help="how many companies (persons, deals… follow)")
@with_appcontext
def demo_command(companies: int) -> None:
    """Load demo data (a second run adds nothing twice)."""
    from opiekun.demo import DEMO_PASSWORD, DEMO_TEAM, load_demo
    from opiekun.migration_runner import SchemaError, upgrade_schema

    try:
        upgrade_schema()
    except SchemaError as error:
        raise click.ClickException(str(error)) from error
    _catch_up_resumed_plugins()
    loaded = load_demo(companies=companies, progress=lambda part, done, total: click.echo(f"{part} {done}/{total}"))
    click.echo(f"demo data loaded: {', '.join(loaded)}" if loaded else "demo data was already loaded; nothing added")
    click.echo(f"demo users (password {DEMO_PASSWORD}): {', '.join(email for email, *_ in DEMO_TEAM)}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn processes (production default: 2 x cores + 1)")
def serve_command(host: str, port: int, workers: int | None) -> None:
    """Serve the app with gunicorn (embedded mode: one process, jobs and schedules inside)."""
    from gunicorn.app.base import BaseApplication

    from opiekun.app import create_app

    app = create_app()
    with app.app_context():
        _check_before_running()
    embedded = app.extensions.get("opiekun.embedded_jobs")
    if embedded is not None:
        workers = 1  # the SQLite file and the in-process job queue belong to one process

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or multiprocessing.cpu_count() * 2 + 1)
            self.cfg.set("threads", 8 if embedded else 2)
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_fork", _fresh_connections)
            if embedded is not None:
                self.cfg.set("post_worker_init", lambda worker: embedded.start_scheduler())

        def load(self):
            return app

    def _fresh_connections(server, worker) -> None:
        """The app was built in the master: a forked worker must not reuse its database
        connections (the admin and plugins may query while the app is built; a SQLite or
        PostgreSQL connection shared across fork() corrupts both sides)."""
        from opiekun.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)

    click.echo(f"Opiekun on http://{host}:{port}/admin ({'embedded jobs' if embedded else 'Redis jobs'})")
    Server().run()


@cli.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an rq worker for the background jobs (needs OPIEKUN_REDIS_URL)."""
    from rq import Queue

    from opiekun.jobs import QUEUE_NAME, ProcessWorker, connection

    if "opiekun.embedded_jobs" in current_app.extensions:
        raise click.ClickException("OPIEKUN_REDIS_URL is not set: in the embedded mode jobs run inside 'opiekun serve'")
    _check_before_running()
    ProcessWorker([Queue(QUEUE_NAME, connection=connection())], connection=connection()).work(
        burst=burst, with_scheduler=True
    )


@cli.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run rq's cron scheduler for the plugins' periodic jobs (needs OPIEKUN_REDIS_URL)."""
    from opiekun.jobs import connection, cron_scheduler

    if "opiekun.embedded_jobs" in current_app.extensions:
        raise click.ClickException(
            "OPIEKUN_REDIS_URL is not set: in the embedded mode schedules run inside 'opiekun serve'"
        )
    _check_before_running()
    cron_scheduler(current_app, connection()).start()


@cli.group("plugins", invoke_without_command=True)
@click.pass_context
def plugins_command(context: click.Context) -> None:
    """Every installed plugin: enabled or off (and why), version, dependencies, hooks, and
    its schema: the revision the database holds against its code's (dormant when off)."""
    if context.invoked_subcommand is None:
        context.invoke(list_plugins)


@plugins_command.command("list")
@with_appcontext
def list_plugins() -> None:
    """Every installed plugin with its state (what ``opiekun plugins`` prints)."""
    from opiekun.plugin_activity import span_text
    from opiekun.plugin_states import plugin_states

    states = plugin_states()
    if not states:
        click.echo("no plugins installed")
    for state in states:
        manifest = state.plugin.manifest
        depends = f" (needs {', '.join(manifest.depends)})" if manifest.depends else ""
        running = "enabled" if state.enabled else f"off: {state.off_because}"
        click.echo(f"{manifest.name} {manifest.version}{depends} — {running}")
        click.echo(f"    {manifest.summary}")
        click.echo(f"    schema: {state.schema_text}")
        if state.off_since is not None:
            click.echo(f"    off since {state.off_since:%Y-%m-%d %H:%M} UTC")
        gap = state.last_gap
        if gap is not None:
            span = span_text(gap)
            if gap.reconciled_at is None:
                click.echo(
                    f"    back after being off {span}: run opiekun init to catch up with the records changed meanwhile"
                )
            else:
                click.echo(f"    last off {span}; caught up {gap.reconciled_at:%Y-%m-%d %H:%M} UTC:")
                for line in state.gap_lines:
                    click.echo(f"        {line}")
        if state.enabled:
            click.echo(f"    hooks: {', '.join(state.hooks) or 'none'}")


@plugins_command.command("uninstall")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation (scripts)")
@with_appcontext
def uninstall_plugin(name: str, yes: bool) -> None:
    """Drop a plugin's tables and data: its schema branch downgraded to base, its settings,
    permissions granted to roles and notifications removed. The plugin must be off
    (OPIEKUN_PLUGINS_DISABLED=NAME) and no enabled plugin may need it; the core keeps running."""
    from opiekun.migration_runner import SchemaError
    from opiekun.plugin_lifecycle import uninstall, uninstall_plan
    from opiekun.plugin_manager import PluginError

    try:
        plan = uninstall_plan(name)
    except PluginError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"uninstalling the plugin {name} drops:")
    for table_name, rows in plan.tables.items():
        click.echo(f"    table {table_name}: {rows} row(s)")
    if not plan.tables:
        click.echo("    no tables (none were created)")
    click.echo(f"    settings: {plan.settings}; notifications of its kinds: {plan.notifications}")
    click.echo(f"    its background jobs waiting in the queue: {plan.waiting_jobs}")
    for role, permissions in plan.role_permissions.items():
        click.echo(f"    permissions of the role {role}: {', '.join(permissions)}")
    if not yes and not click.confirm("This cannot be undone. Uninstall?", default=False):
        raise click.ClickException("nothing was changed")
    try:
        uninstall(plan)
    except (PluginError, SchemaError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"plugin {name} uninstalled: its tables and data are gone; switch it on again to start it afresh")


@plugins_command.command("new")
@click.argument("name")
@click.option("--record-type", default=None, help="its record type (default: NAME without its final s)")
@click.option("--label", default=None, help="the record type's label, singular (e.g. Visit)")
@click.option("--label-plural", default=None, help="plural (e.g. Visits)")
@click.option(
    "--directory", default=None, type=click.Path(file_okay=False), help="where to write it (default: ./opiekun-NAME)"
)
@with_appcontext
def new_plugin(
    name: str, record_type: str | None, label: str | None, label_plural: str | None, directory: str | None
) -> None:
    """Write a ready plugin package: manifest and entry point, a record type with its model
    and first migration, API schemas, admin view, permission, job, CLI command, Polish
    catalog, README and passing tests (opiekun.testing)."""
    from pathlib import Path

    from alembic.script import ScriptDirectory

    from opiekun.migration_runner import CORE_BRANCH, alembic_config
    from opiekun.scaffold import ScaffoldError, skeleton, write_plugin

    try:
        plugin = skeleton(name, record_type, label, label_plural)
        if plugin.name in current_app.extensions["opiekun.plugins"].installed:
            raise ScaffoldError(f"a plugin called {plugin.name!r} is installed already: choose another name")
        if plugin.record_type in current_app.extensions["opiekun.record_types"]:
            raise ScaffoldError(f"the record type {plugin.record_type!r} exists already: give another --record-type")
        folder = Path(directory) if directory else Path.cwd() / plugin.distribution
        core_revision = ScriptDirectory.from_config(alembic_config()).get_revisions(f"{CORE_BRANCH}@head")[0].revision
        written = write_plugin(plugin, folder, core_revision)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"plugin {plugin.name} written to {folder} ({len(written)} files):")
    for path in written:
        click.echo(f"    {path.relative_to(folder)}")
    click.echo(f"next: pip install -e {folder}, then opiekun init; its tests: pytest {folder}")


@plugins_command.command("migration")
@click.argument("name")
@click.option("-m", "--message", required=True, help="what the revision does")
@click.option(
    "--head",
    type=click.Choice(["base"]),
    default=None,
    help="base: the plugin's first revision (its branch, depending on the core and its dependencies)",
)
@with_appcontext
def plugin_migration(name: str, message: str, head: str | None) -> None:
    """Write the next revision of a plugin's schema branch (or its first, with --head base)
    into its migrations folder; fill in upgrade() and downgrade(), then run opiekun init."""
    from opiekun.plugin_lifecycle import new_revision
    from opiekun.plugin_manager import PluginError

    try:
        written = new_revision(name, message, first=head == "base")
    except PluginError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"revision written: {written}")


@cli.command("openapi")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="file to write (default: standard output)",
)
@with_appcontext
def openapi_command(output: str) -> None:
    """Write the OpenAPI document of the enabled plugins' API (what /api/v1/openapi.json serves)."""
    from opiekun.api.spec import openapi_text

    with click.open_file(output, "w", encoding="utf-8") as target:
        target.write(openapi_text(current_app))


def main() -> None:
    try:
        cli.main(prog_name="opiekun")
    except (PluginError, ConfigurationError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
