"""Creating and upgrading the database schema through Alembic, branch by branch.

The core has the branch ``core``; each plugin with an ``opiekun_migrations_dir`` has its
own, labelled with its name. Only the enabled plugins' folders are given to Alembic.
"""

from __future__ import annotations

import os

import flask_migrate
from flask import current_app

from opiekun.extensions import migrate


@migrate.configure
def _enabled_branches(config):
    folders = current_app.extensions["opiekun.migrations"].values()
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(folders))
    return config


def upgrade_schema() -> None:
    """Create or upgrade every enabled branch to its newest revision (idempotent)."""
    flask_migrate.upgrade(revision="heads")
