"""Creating and upgrading the database schema through Alembic, branch by branch.

The core has the branch ``core``; each plugin with an ``opiekun_migrations_dir`` has its
own, labelled with its name. Alembic is given the folders of every installed plugin —
enabled or not — so it can read any revision the database holds; only the enabled
branches are upgraded. An installed plugin that is off keeps its tables, its data and its
revision (it is *dormant*) until it is switched on again, and then its branch is upgraded
from where it stopped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app

from opiekun.extensions import db, migrate

#: The core's branch label (its first revision's ``branch_labels``).
CORE_BRANCH = "core"


class SchemaError(RuntimeError):
    """The schema cannot be brought up to date; the message names the plugin and the fix."""


def _installed_branches(config):
    folders = [
        *current_app.extensions["opiekun.migrations"].values(),
        *current_app.extensions.get("opiekun.dormant_migrations", {}).values(),
    ]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(folders))
    return config


def give_alembic_every_branch() -> None:
    """Every Alembic configuration — ``opiekun init``, ``opiekun db heads/current/…`` —
    lists the folders of every installed plugin (once per process)."""
    if _installed_branches not in migrate.configure_callbacks:
        migrate.configure(_installed_branches)


def alembic_config():
    """Flask-Migrate's Alembic configuration of the current app (every installed branch)."""
    return current_app.extensions["migrate"].migrate.get_config()


@dataclass(frozen=True)
class BranchState:
    """Where one plugin's schema branch stands: the revision the database holds (None: its
    tables were never created) and the newest revision of its code."""

    name: str
    database_revision: str | None
    code_revision: str | None

    @property
    def up_to_date(self) -> bool:
        return self.database_revision == self.code_revision


def enabled_branches() -> list[str]:
    """The branches ``opiekun init`` upgrades: the core's and the enabled plugins'."""
    known = branch_names()
    return [CORE_BRANCH, *(name for name in current_app.extensions["opiekun.migrations"] if name in known)]


def branch_names(script: ScriptDirectory | None = None) -> set[str]:
    """Every branch label Alembic knows (the core's and the installed plugins')."""
    script = script or ScriptDirectory.from_config(alembic_config())
    return {label for revision in script.walk_revisions() for label in revision.branch_labels}


def dormant_states() -> list[BranchState]:
    """The installed plugins that are off but whose tables the database holds."""
    states = branch_states()
    dormant = current_app.extensions.get("opiekun.dormant_migrations", {})
    return [states[name] for name in sorted(dormant) if name in states and states[name].database_revision]


def branch_states() -> dict[str, BranchState]:
    """Each known branch: the revision the database holds and the code's newest."""
    script = ScriptDirectory.from_config(alembic_config())
    with db.engine.connect() as connection:
        current = held_revisions(script, MigrationContext.configure(connection).get_current_heads())
    states = {}
    for label in sorted(branch_names(script)):
        heads = script.get_revisions(f"{label}@head")
        code = heads[0].revision if heads else None
        held = next((revision.revision for revision in current if label in revision.branch_labels), None)
        states[label] = BranchState(label, held, code)
    return states


def held_revisions(script: ScriptDirectory, heads: tuple[str, ...]) -> list[Script]:
    """The newest revision the database holds on each branch. ``alembic_version`` lists
    only heads: a branch whose newest revision another branch depends on (a plugin's
    first revision ``depends_on`` the core's newest) is held without being listed. Heads
    the code does not know (a plugin removed without uninstalling it) are left out."""
    known = tuple(head for head in heads if _known(script, head) is not None)
    return [revision for revision in script.get_all_current(known) if revision is not None]


def _known(script: ScriptDirectory, revision_id: str) -> Script | None:
    try:
        return script.get_revision(revision_id)
    except CommandError:
        return None


def outdated_branches() -> list[BranchState]:
    """The core's and the enabled plugins' branches the database does not hold at the
    code's newest revision (not created, or behind): ``opiekun init`` is due."""
    states = branch_states()
    return [states[name] for name in enabled_branches() if name in states and not states[name].up_to_date]


def upgrade_schema() -> None:
    """Create or upgrade the core's and every enabled plugin's branch to its newest
    revision (idempotent). Branches of installed plugins that are off stay as they are."""
    config = alembic_config()
    try:
        if current_app.extensions.get("opiekun.dormant_migrations"):
            for branch in enabled_branches():
                command.upgrade(config, f"{branch}@head")
        else:
            command.upgrade(config, "heads")
    except CommandError as error:
        raise SchemaError(_explained(str(error))) from error


def _explained(problem: str) -> str:
    """Alembic's complaint, said with the plugin it concerns and what to do."""
    if "Can't locate revision" in problem:
        revision = problem.rsplit("'", 2)[-2] if problem.count("'") >= 2 else "?"
        plugin = revision.split("_", 1)[0]
        return (
            f"the database holds revision {revision!r} of the plugin {plugin!r}, which is not installed: "
            f"install the plugin {plugin!r} again (it may stay off with OPIEKUN_PLUGINS); "
            "its tables and data are kept until it is uninstalled"
        )
    return f"the schema could not be upgraded: {problem}"
