"""Every installed plugin and where it stands — for ``opiekun plugins`` and the panel's
plugins page: enabled or off (and why: not chosen, switched off, a dependency off), and
its schema branch: the revision the database holds against its code's newest (tables of a
plugin that is off are *dormant*: kept, with their data, until it is switched on again);
since when it is off, and its latest time off with what catching up after it changed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from opiekun.errors import Message
from opiekun.migration_runner import BranchState, branch_states
from opiekun.models import PluginGap
from opiekun.plugin_activity import gaps_of, off_since, summary_lines
from opiekun.plugin_manager import Plugin


@dataclass(frozen=True)
class PluginState:
    """One installed plugin: its manifest, whether it runs (else why not), its hooks when
    it runs, and its schema branch (None: the plugin has no tables)."""

    plugin: Plugin
    enabled: bool
    off_because: Message | None
    hooks: tuple[str, ...]
    schema: BranchState | None
    #: when it was switched off (it is off, and has been on before)
    off_since: dt.datetime | None = None
    #: its latest time off, once it is back (caught up with, or still to be)
    last_gap: PluginGap | None = None

    @property
    def gap_lines(self) -> list[Message]:
        """What catching up after the latest time off changed (empty: not yet, or none)."""
        return summary_lines(self.last_gap) if self.last_gap is not None else []

    @property
    def name(self) -> str:
        return self.plugin.name

    @property
    def schema_text(self) -> Message:
        """The branch in words: none, not created, up to date, dormant, or behind."""
        schema = self.schema
        if schema is None:
            return Message("no tables")
        if schema.database_revision is None:
            return Message("tables not created (code %(code)s)", code=schema.code_revision)
        if not self.enabled:
            return Message(
                "tables kept while off (database %(database)s, code %(code)s)",
                database=schema.database_revision,
                code=schema.code_revision,
            )
        if schema.up_to_date:
            return Message("up to date (%(revision)s)", revision=schema.database_revision)
        return Message(
            "behind: database %(database)s, code %(code)s — run opiekun init",
            database=schema.database_revision,
            code=schema.code_revision,
        )


def plugin_states() -> list[PluginState]:
    """Every installed plugin, by name."""
    host = current_app.extensions["opiekun.plugins"]
    settings = current_app.extensions["opiekun.settings"]
    enabled = set(host.names)
    branches = branch_states()
    return [
        PluginState(
            plugin=plugin,
            enabled=name in enabled,
            off_because=None if name in enabled else _off_because(plugin, enabled, settings),
            hooks=tuple(host.hooks_of(name)) if name in enabled else (),
            schema=branches.get(name),
            off_since=activity.since if (activity := off_since(name)) else None,
            last_gap=gaps[-1] if (gaps := gaps_of(name)) else None,
        )
        for name, plugin in sorted(host.installed.items())
    ]


def _off_because(plugin: Plugin, enabled: set[str], settings) -> Message:
    if plugin.name in settings.plugins_disabled:
        return Message("switched off by OPIEKUN_PLUGINS_DISABLED")
    missing = sorted(set(plugin.manifest.depends) - enabled)
    if missing:
        return Message("needs %(plugins)s, which is off", plugins=", ".join(missing))
    return Message("not chosen in OPIEKUN_PLUGINS")
