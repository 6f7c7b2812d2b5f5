"""Alembic environment: one branch for the core and one per enabled plugin.

``version_locations`` is set by :mod:`opiekun.migration_runner` from the enabled plugins, so a
disabled plugin's revisions are never seen and its tables never created.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from opiekun.search import not_a_search_index

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
engine = target_db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def process_revision_directives(context, revision, directives):
    """Do not write an empty revision when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", process_revision_directives)
    options.setdefault("render_as_batch", engine.dialect.name == "sqlite")
    options.setdefault("compare_type", True)
    options.setdefault("include_object", not_a_search_index)  # created by migrations, not declared by models
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
