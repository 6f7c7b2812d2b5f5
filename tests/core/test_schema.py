"""The migrations create exactly what the models declare, on every enabled branch."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from opiekun.extensions import db
from opiekun.migration_runner import upgrade_schema
from opiekun.search import not_a_search_index
from tests.support import visits_plugin


def schema_differences() -> list:
    """Between the migrations and the models, leaving out the tables of the tests' own
    plugin ``visits`` (declared once any test imports it; its test compares them)."""

    def of_this_app(obj, name, type_, reflected, compare_to) -> bool:
        return not (type_ == "table" and name in visits_plugin.TABLES) and not_a_search_index(
            obj, name, type_, reflected, compare_to
        )

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": of_this_app})
        return compare_metadata(context, db.metadata)


def test_migrations_match_the_models(app_context):
    assert schema_differences() == []


def test_init_is_idempotent(app_context):
    upgrade_schema()
    upgrade_schema()
    assert schema_differences() == []
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads()
