"""Uninstalling a plugin from a live database: its branch downgraded to base (its tables
dropped), and what the core keeps for it removed — its settings (``<plugin>.…`` keys),
its permissions granted to roles (``<plugin>.…``) and the notifications of its kinds
(``<plugin>.…``). Only a plugin that is off may go, and none that an enabled plugin needs.
The history (audit entries) of its records stays: the history is never rewritten.

:func:`uninstall_plan` says what would go (for the confirmation); :func:`uninstall` does it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alembic import command
from alembic.util.exc import CommandError
from flask import current_app
from sqlalchemy import delete, func, inspect, select, table

from opiekun.extensions import db
from opiekun.migration_runner import SchemaError, alembic_config, branch_states
from opiekun.models import Notification, Role, Setting
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
    )


def uninstall(plan: UninstallPlan) -> None:
    """Drop the plugin's tables (its branch downgraded to base), then remove its settings,
    role permissions and notifications in one transaction."""
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
    db.session.commit()


def _removable(name: str) -> Plugin:
    host = current_app.extensions["opiekun.plugins"]
    plugin = host.installed.get(name)
    if plugin is None:
        raise PluginError(
            f"no installed plugin is called {name!r}; installed: {', '.join(sorted(host.installed)) or 'none'}"
        )
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
