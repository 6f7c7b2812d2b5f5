"""A plugin's schema on a live database: a new revision of its branch
(:func:`new_revision`, for ``opiekun plugins migration``), and uninstalling it.

Uninstalling downgrades the plugin's branch to base (its tables dropped) and removes what
the core keeps for it: its settings (``<plugin>.…`` keys), its permissions granted to
roles (``<plugin>.…``), the notifications of its kinds (``<plugin>.…``), the record of its
times on and off, and its jobs waiting in the queue. Only a plugin that is off may go,
and none that an enabled plugin needs. The history (audit entries) of its records stays:
the history is never rewritten.

:func:`uninstall_plan` says what would go (for the confirmation); :func:`uninstall` does it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app
from sqlalchemy import delete, func, inspect, select, table

from opiekun.extensions import db
from opiekun.jobs import remove_waiting_jobs, waiting_jobs
from opiekun.migration_runner import CORE_BRANCH, SchemaError, alembic_config, branch_names, branch_states
from opiekun.models import Notification, Role, Setting
from opiekun.plugin_activity import forget_plugin
from opiekun.plugin_manager import Plugin, PluginError, ask_plugin_alone


@dataclass(frozen=True)
class UninstallPlan:
    """What uninstalling ``plugin`` drops and removes (nothing is changed yet)."""

    plugin: str
    #: its tables the database holds, with their rows
    tables: dict[str, int]
    #: the revision its branch is at (None: its tables were never created)
    revision: str | None
    settings: int
    notifications: int
    #: its background jobs waiting in the queue (queued, deferred or scheduled)
    waiting_jobs: int
    #: role name → the plugin's permissions it holds
    role_permissions: dict[str, list[str]] = field(default_factory=dict)


def uninstall_plan(name: str) -> UninstallPlan:
    """What uninstalling the plugin ``name`` would do. :class:`PluginError` when it is not
    installed, still enabled, or needed by an enabled plugin."""
    plugin = _removable(name)
    existing = set(inspect(db.engine).get_table_names())
    tables = {
        table_name: db.session.scalar(select(func.count()).select_from(table(table_name)))
        for table_name in _table_names(plugin)
        if table_name in existing
    }
    state = branch_states().get(name)
    prefix = f"{name}."
    roles = {
        role.name: sorted(permission for permission in role.permissions or [] if permission.startswith(prefix))
        for role in db.session.scalars(select(Role))
    }
    return UninstallPlan(
        plugin=name,
        tables=tables,
        revision=state.database_revision if state else None,
        settings=db.session.scalar(select(func.count()).where(Setting.key.startswith(prefix, autoescape=True))),
        notifications=db.session.scalar(
            select(func.count()).where(Notification.kind.startswith(prefix, autoescape=True))
        ),
        role_permissions={role: permissions for role, permissions in roles.items() if permissions},
        waiting_jobs=len(waiting_jobs(prefix)),
    )


def uninstall(plan: UninstallPlan) -> None:
    """Drop the plugin's tables (its branch downgraded to base), then remove its settings,
    role permissions, notifications and times on and off in one transaction, and last its
    jobs waiting in the queue."""
    name = plan.plugin
    _removable(name)
    if plan.revision is not None:
        db.session.remove()  # Alembic's DDL must not wait for this session's locks
        try:
            command.downgrade(alembic_config(), f"{name}@base")
        except CommandError as error:
            raise SchemaError(f"the tables of the plugin {name!r} could not be dropped: {error}") from error
    prefix = f"{name}."
    db.session.execute(delete(Setting).where(Setting.key.startswith(prefix, autoescape=True)))
    db.session.execute(delete(Notification).where(Notification.kind.startswith(prefix, autoescape=True)))
    for role in db.session.scalars(select(Role)):
        kept = [permission for permission in role.permissions or [] if not permission.startswith(prefix)]
        if kept != list(role.permissions or []):
            role.permissions = kept
    forget_plugin(name)
    db.session.commit()
    remove_waiting_jobs(prefix)


def _removable(name: str) -> Plugin:
    host = current_app.extensions["opiekun.plugins"]
    plugin = _installed(name)
    if name in host.names:
        raise PluginError(
            f"the plugin {name!r} is enabled: switch it off first (OPIEKUN_PLUGINS_DISABLED={name}), then uninstall it"
        )
    needing = sorted(other.name for other in host.plugins if name in other.manifest.depends)
    if needing:
        raise PluginError(
            f"the plugin {name!r} is needed by {', '.join(needing)}, which is enabled: switch it off first"
        )
    return plugin


def _installed(name: str) -> Plugin:
    """The installed plugin ``name`` (enabled or not); :class:`PluginError` naming the
    installed ones when there is none."""
    installed = current_app.extensions["opiekun.plugins"].installed
    if name not in installed:
        raise PluginError(
            f"no installed plugin is called {name!r}; installed: {', '.join(sorted(installed)) or 'none'}"
        )
    return installed[name]


def _table_names(plugin: Plugin) -> list[str]:
    """The tables of the plugin's models and their association tables (asked of the
    plugin alone: it is off)."""
    models = [model for models in ask_plugin_alone(plugin, "opiekun_models") for model in models]
    names = set()
    for model in models:
        mapper = inspect(model)
        names.update(mapped.name for mapped in mapper.tables)
        names.update(relation.secondary.name for relation in mapper.relationships if relation.secondary is not None)
    return sorted(names)


def new_revision(name: str, message: str, first: bool = False) -> Path:
    """Write the plugin's next revision (``<plugin>_0002``…, after its branch's head) or,
    with ``first``, the first of its branch (``<plugin>_0001``: ``branch_labels`` = its
    name, ``depends_on`` the core's newest revision and those of the plugins it needs) into
    its ``opiekun_migrations_dir`` folder; returns the file. The revision is empty: write
    its ``upgrade`` and ``downgrade``, then ``opiekun init`` applies it."""
    plugin = _installed(name)
    folders = ask_plugin_alone(plugin, "opiekun_migrations_dir")
    if not folders or not folders[0]:
        raise PluginError(
            f"the plugin {name!r} has no migrations folder: implement the hook opiekun_migrations_dir "
            "returning the folder of its revisions"
        )
    folder = Path(folders[0])
    folder.mkdir(parents=True, exist_ok=True)
    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    known = name in branch_names(script)
    if first and known:
        raise PluginError(f"the plugin {name!r} has a branch already: leave out --head base to add its next revision")
    if not first and not known:
        raise PluginError(f"the plugin {name!r} has no revision yet: give --head base for its first one")
    try:
        if first:
            needed = [CORE_BRANCH, *plugin.manifest.depends]
            depends_on = [script.get_revisions(f"{branch}@head")[0].revision for branch in needed]
            written = command.revision(
                config,
                message=message,
                head="base",
                branch_label=name,
                version_path=str(folder),
                rev_id=f"{name}_0001",
                depends_on=depends_on,
            )
        else:
            head = script.get_revisions(f"{name}@head")[0].revision
            written = command.revision(
                config, message=message, head=f"{name}@head", version_path=str(folder), rev_id=_next_id(name, head)
            )
    except CommandError as error:
        raise PluginError(f"the revision of the plugin {name!r} could not be written: {error}") from error
    return Path(written.path)


def _next_id(name: str, head: str) -> str:
    """``<plugin>_0003`` after ``<plugin>_0002`` (the project's numbering)."""
    number = head.rsplit("_", 1)[-1]
    return f"{name}_{int(number) + 1:04d}" if number.isdigit() else f"{name}_{head}_next"
