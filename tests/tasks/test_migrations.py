"""The tasks branch's migrations on a database that already holds tasks: ``tasks_0002``
renames the responsible user's column to ``responsible_id`` keeping every task, its
participants and reminders, the foreign key and the indexes, and downgrades back."""

from __future__ import annotations

import flask_migrate
import pytest
from sqlalchemy import inspect, text

from opiekun.extensions import db
from opiekun.testing.apps import build_app


@pytest.fixture(scope="module")
def migrated_app(tmp_path_factory, fresh_database):
    application = build_app(tmp_path_factory.mktemp("tasks-migrations"), fresh_database.url(), plugins=("tasks",))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def tasks_columns_and_indexes() -> tuple[set[str], set[str], dict[str, str | None]]:
    """The columns and index names of ``tasks``, and its foreign keys to ``users`` (column -> name)."""
    inspector = inspect(db.engine)
    columns = {column["name"] for column in inspector.get_columns("tasks")}
    indexes = {index["name"] for index in inspector.get_indexes("tasks")}
    user_keys = {
        key["constrained_columns"][0]: key["name"]
        for key in inspector.get_foreign_keys("tasks")
        if key["referred_table"] == "users"
    }
    return columns, indexes, user_keys


def assert_user_key(user_keys: dict[str, str | None], column: str) -> None:
    """``column`` points at ``users``; PostgreSQL names the key after it (SQLite keeps the first name)."""
    assert column in user_keys
    if db.engine.dialect.name == "postgresql":
        assert user_keys[column] == f"fk_tasks_{column}_users"


def add_old_task(connection) -> int:
    """A user, a task they are responsible for (column ``owner_id``), a participant and a reminder."""
    connection.execute(
        text(
            "INSERT INTO users (id, email, name, password_hash, status, role, token_generation, created_at) "
            "VALUES (7001, 'o@firma.example', 'Ola', 'x', 'active', 'user', 0, CURRENT_TIMESTAMP), "
            "(7002, 'p@firma.example', 'Piotr', 'x', 'active', 'user', 0, CURRENT_TIMESTAMP)"
        )
    )
    type_id = connection.execute(text("SELECT min(id) FROM task_types")).scalar_one()
    connection.execute(
        text(
            "INSERT INTO tasks (id, title, type_id, owner_id, created_by_id, priority, private, reminders, done, due_date, "
            "created_at, updated_at) VALUES (9001, 'Telefon', :type_id, 7001, 7001, 'normal', false, '[30]', false, "
            "'2030-01-02', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"type_id": type_id},
    )
    connection.execute(text("INSERT INTO task_participants (task_id, user_id) VALUES (9001, 7002)"))
    connection.execute(
        text("INSERT INTO task_reminders (task_id, minutes_before, remind_at) VALUES (9001, 30, '2030-01-02 08:30:00')")
    )
    return type_id


def test_the_rename_keeps_the_tasks_and_goes_back(migrated_app):
    with migrated_app.app_context():
        flask_migrate.downgrade(revision="tasks_0001")
        columns, indexes, user_keys = tasks_columns_and_indexes()
        assert "owner_id" in columns and "responsible_id" not in columns
        with db.engine.begin() as connection:
            add_old_task(connection)

        flask_migrate.upgrade(revision="heads")
        columns, indexes, user_keys = tasks_columns_and_indexes()
        assert "responsible_id" in columns and "owner_id" not in columns
        assert {"ix_tasks_responsible_id", "ix_tasks_responsible_type_due"} <= indexes
        assert not {"ix_tasks_owner_id", "ix_tasks_owner_type_due"} & indexes
        assert_user_key(user_keys, "responsible_id")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT responsible_id FROM tasks WHERE id = 9001")).scalar_one() == 7001
            assert (
                connection.execute(text("SELECT user_id FROM task_participants WHERE task_id = 9001")).scalar_one()
                == 7002
            )
            assert (
                connection.execute(text("SELECT count(*) FROM task_reminders WHERE task_id = 9001")).scalar_one() == 1
            )

        flask_migrate.downgrade(revision="tasks_0001")
        columns, indexes, user_keys = tasks_columns_and_indexes()
        assert "owner_id" in columns and "responsible_id" not in columns
        assert {"ix_tasks_owner_id", "ix_tasks_owner_type_due"} <= indexes
        assert_user_key(user_keys, "owner_id")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT owner_id FROM tasks WHERE id = 9001")).scalar_one() == 7001
            assert (
                connection.execute(text("SELECT count(*) FROM task_participants WHERE task_id = 9001")).scalar_one()
                == 1
            )
            assert (
                connection.execute(text("SELECT count(*) FROM task_reminders WHERE task_id = 9001")).scalar_one() == 1
            )
        flask_migrate.upgrade(revision="heads")
