"""The migrations create exactly what the models declare, on every enabled branch."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from opiekun.extensions import db
from opiekun.migration_runner import upgrade_schema


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_match_the_models(app_context):
    assert schema_differences() == []


def test_init_is_idempotent(app_context):
    upgrade_schema()
    upgrade_schema()
    assert schema_differences() == []
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads()
