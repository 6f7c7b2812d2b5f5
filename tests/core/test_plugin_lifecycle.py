"""Teams switch plugins off and on again on a live database (issue 18, first step): with
any subset of plugins, ``opiekun init`` upgrades the enabled branches and leaves the
others' tables, data and revisions alone (it says which are dormant); switched on again,
a plugin finds its data, its branch upgraded from where it stopped. A revision of a
plugin that is no longer installed is an error naming the plugin, not a traceback.
``OPIEKUN_PLUGINS_DISABLED`` switches named plugins off and keeps the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Connection, create_engine, inspect, text

from opiekun.manifest import PluginManifest
from opiekun.plugin_manager import Plugin, PluginError, discover_plugins, resolve_plugins
from opiekun.testing.apps import SECRET_KEY, build_app, close_app
from opiekun.testing.clients import ApiClient, logged_in


def opiekun(
    database_url: str, folder: Path, *arguments: str, input_text: str | None = None, **environment: str
) -> subprocess.CompletedProcess:
    """The ``opiekun`` command as a team's operator runs it, on ``database_url`` (answering
    its question with ``input_text``)."""
    env = operator_environment(database_url, folder, **environment)
    command = Path(sys.executable).parent / "opiekun"
    return subprocess.run(
        [str(command), *arguments], env=env, capture_output=True, text=True, timeout=120, cwd=folder, input=input_text
    )


def operator_environment(database_url: str, folder: Path, **environment: str) -> dict[str, str]:
    """The environment of an operator's ``opiekun`` process: this one's, without the
    tests' own settings, on ``database_url`` with its instance in ``folder``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPIEKUN_")}
    env.update(
        OPIEKUN_DATABASE_URL=database_url,
        OPIEKUN_INSTANCE_PATH=str(folder),
        OPIEKUN_SECRET_KEY=SECRET_KEY,
        **environment,
    )
    return env


@contextmanager
def database(database_url: str, write: bool = False) -> Iterator[Connection]:
    """A connection to ``database_url`` from outside the product, as an operator's SQL
    client would have (``write``: committed at the end)."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() if write else engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def query(database_url: str, sql: str, **params) -> list[tuple]:
    """The rows of ``sql`` on ``database_url``."""
    with database(database_url) as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def revisions(database_url: str) -> set[str]:
    return {revision for (revision,) in query(database_url, "SELECT version_num FROM alembic_version")}


def count_rows(database_url: str, table: str) -> int:
    return query(database_url, f"SELECT count(*) FROM {table}")[0][0]


def test_plugins_switched_off_keep_their_data_and_come_back_with_it(tmp_path, fresh_database):
    url = fresh_database.url()
    everything = build_app(tmp_path / "all", url)
    api = ApiClient(everything)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    company = api.post("/companies", admin, json={"name": "Agro-Tech"}).get_json()
    type_id = api.get("/task-types", admin).get_json()["items"][0]["id"]
    task = api.post(
        "/tasks",
        admin,
        json={"title": "Telefon", "type_id": type_id, "object_type": "company", "object_id": company["id"]},
    )
    assert task.status_code == 201, task.get_json()
    close_app(everything)

    off = opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS="ownership,audit")
    assert off.returncode == 0, off.stderr
    assert "schema is up to date (core, audit, ownership)" in off.stdout
    assert "plugin tasks is off: its tables and data are kept (revision tasks_0003)" in off.stdout
    assert "Traceback" not in off.stderr
    assert "tasks_0003" in revisions(url) and count_rows(url, "tasks") == 1, "dormant, not dropped"

    reduced = build_app(tmp_path / "reduced", url, plugins=("ownership", "audit"))
    api_reduced = ApiClient(reduced)
    assert api_reduced.get("/tasks", admin).status_code == 404, "the routes of a plugin that is off are gone"
    assert api_reduced.get(f"/companies/{company['id']}", admin).status_code == 200
    close_app(reduced)

    back = opiekun(url, tmp_path, "init")
    assert back.returncode == 0, back.stderr
    assert "is off" not in back.stdout
    again = build_app(tmp_path / "again", url)
    listed = ApiClient(again).get("/tasks", admin).get_json()
    assert [item["title"] for item in listed["items"]] == ["Telefon"], "the data is back"
    close_app(again)


def test_a_dormant_branch_is_upgraded_when_its_plugin_comes_back(tmp_path, fresh_database):
    """A plugin off while its code moved on: back on, its branch goes from where it stopped."""
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="tasks").returncode == 0
    assert not any(revision.startswith("tasks_") for revision in revisions(url))
    first = opiekun(url, tmp_path, "db", "upgrade", "tasks_0001")
    assert first.returncode == 0, first.stderr
    assert "tasks_0001" in revisions(url)

    still_off = opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="tasks")
    assert still_off.returncode == 0, still_off.stderr
    assert "plugin tasks is off: its tables and data are kept (revision tasks_0001)" in still_off.stdout
    assert "tasks_0001" in revisions(url), "not upgraded while off"

    on = opiekun(url, tmp_path, "init")
    assert on.returncode == 0, on.stderr
    assert "tasks_0003" in revisions(url)


def test_a_revision_of_a_plugin_no_longer_installed_is_named_with_the_fix(tmp_path, fresh_database):
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init").returncode == 0
    with database(url, write=True) as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('visits_0001')"))
    refused = opiekun(url, tmp_path, "init")
    assert refused.returncode == 1
    assert "the database holds revision 'visits_0001' of the plugin 'visits', which is not installed" in refused.stderr
    assert "install the plugin 'visits' again" in refused.stderr and "Traceback" not in refused.stderr


def test_plugins_disabled_by_name_keep_the_others_and_their_dependents_say_why():
    visits = PluginManifest(name="visits", version="1.0", summary="Visits", depends=("tasks",))
    installed = {**discover_plugins(), "visits": Plugin(visits, ModuleType("visits"), None)}
    plugins, skipped = resolve_plugins(installed, None, disabled=["tasks"])
    names = [plugin.name for plugin in plugins]
    assert "tasks" not in names and {"audit", "ownership", "offboarding"} <= set(names)
    assert skipped["tasks"] == "switched off by OPIEKUN_PLUGINS_DISABLED"
    assert skipped["visits"] == "needs tasks, which is not enabled", "a plugin needing it is off too, saying why"
    with pytest.raises(PluginError, match="unknown plugin 'nope' in OPIEKUN_PLUGINS_DISABLED"):
        resolve_plugins(installed, None, disabled=["nope"])


def test_every_installed_plugin_is_listed_with_its_state_and_schema(tmp_path, fresh_database):
    """``opiekun plugins`` and the panel's plugins page: enabled or off and why, and the
    tables a plugin that is off keeps."""
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init").returncode == 0
    listed = opiekun(url, tmp_path, "plugins", OPIEKUN_PLUGINS_DISABLED="tasks")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    [tasks] = [number for number, line in enumerate(lines) if line.startswith("tasks ")]
    assert lines[tasks].endswith("— off: switched off by OPIEKUN_PLUGINS_DISABLED")
    assert lines[tasks + 2] == "    schema: tables kept while off (database tasks_0003, code tasks_0003)"
    assert any(line.startswith("audit ") and line.endswith("— enabled") for line in lines)

    reduced = build_app(tmp_path / "reduced", url, plugins_disabled=("tasks",))
    admin = ApiClient(reduced).create_user("admin@firma.example", role="admin", name="Ada Admin")
    page = logged_in(reduced, admin).text("/admin/plugins/")
    row = page[page.index('id="plugin-tasks"') :].split("</tr>")[0]
    assert "wyłączony" in row and "wyłączony przez OPIEKUN_PLUGINS_DISABLED" in row
    assert "tabele zachowane na czas wyłączenia (baza tasks_0003, kod tasks_0003)" in row
    audit_row = page[page.index('id="plugin-audit"') :].split("</tr>")[0]
    assert "włączony" in audit_row and "aktualne (audit_0001)" in audit_row and "opiekun_records_changed" in audit_row
    close_app(reduced)


def test_an_uninstalled_plugin_leaves_nothing_behind_and_comes_back_fresh(tmp_path, fresh_database):
    """audit off → uninstalled (its tables, settings, permissions and notices gone; the
    rest works) → switched on again: a fresh, empty history."""
    url = fresh_database.url()
    everything = build_app(tmp_path / "all", url)
    api = ApiClient(everything)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    company = api.post("/companies", admin, json={"name": "Agro-Tech"}).get_json()
    assert (
        api.post(
            "/roles", admin, json={"name": "audytor", "label": "Audytor", "permissions": ["audit.view"]}
        ).status_code
        == 201
    )
    with database(url, write=True) as connection:
        connection.execute(text("INSERT INTO settings (key, value) VALUES ('audit.retention_days', '30')"))
        connection.execute(
            text(
                "INSERT INTO notifications (user_id, kind, message, created_at) "
                f"VALUES ({admin['id']}, 'audit.export_ready', 'Eksport gotowy', CURRENT_TIMESTAMP)"
            )
        )
    assert count_rows(url, "audit_entries") >= 1
    close_app(everything)

    refused = opiekun(url, tmp_path, "plugins", "uninstall", "audit", "--yes")
    assert refused.returncode == 1 and "the plugin 'audit' is enabled: switch it off first" in refused.stderr
    kept = opiekun(url, tmp_path, "plugins", "uninstall", "audit", input_text="n\n", OPIEKUN_PLUGINS_DISABLED="audit")
    assert kept.returncode == 1 and "nothing was changed" in kept.stderr
    assert "table audit_entries: " in kept.stdout and "permissions of the role audytor: audit.view" in kept.stdout
    assert count_rows(url, "audit_entries") >= 1

    done = opiekun(url, tmp_path, "plugins", "uninstall", "audit", "--yes", OPIEKUN_PLUGINS_DISABLED="audit")
    assert done.returncode == 0, done.stderr
    assert not any(revision.startswith("audit_") for revision in revisions(url))
    with database(url) as connection:
        tables = set(inspect(connection).get_table_names())
        assert not {name for name in tables if name.startswith("audit_")}, tables
        assert connection.execute(text("SELECT count(*) FROM settings WHERE key LIKE 'audit.%'")).scalar_one() == 0
        assert (
            connection.execute(text("SELECT count(*) FROM notifications WHERE kind LIKE 'audit.%'")).scalar_one() == 0
        )
        permissions = connection.execute(text("SELECT permissions FROM roles WHERE name = 'audytor'")).scalar_one()
        assert "audit.view" not in str(permissions)

    without = build_app(tmp_path / "without", url, plugins_disabled=("audit",))
    assert ApiClient(without).get(f"/companies/{company['id']}", admin).status_code == 200, "the core keeps running"
    close_app(without)
    fresh = opiekun(url, tmp_path, "init")
    assert fresh.returncode == 0, fresh.stderr
    assert count_rows(url, "audit_entries") == 0, "installed again: a fresh history"


PARTNER_PLUGIN = '''
from pathlib import Path

from opiekun.plugin import PluginManifest, hookimpl

MANIFEST = PluginManifest(name="visits", version="0.1.0", summary="Visits at customers")


@hookimpl
def opiekun_migrations_dir():
    """The folder of the plugin's revisions."""
    return str(Path(__file__).parent / "migrations")
'''


def fill_in(revision: Path, upgrade: str, downgrade: str) -> None:
    """What a partner writes into the generated revision."""
    text_of = revision.read_text()
    assert "def upgrade():\n    pass" in text_of and "def downgrade():\n    pass" in text_of
    revision.write_text(
        text_of.replace("def upgrade():\n    pass", f"def upgrade():\n    {upgrade}").replace(
            "def downgrade():\n    pass", f"def downgrade():\n    {downgrade}"
        )
    )


def test_a_partner_writes_the_first_and_the_next_revision_of_its_plugin(tmp_path, fresh_database):
    """``opiekun plugins migration`` writes a revision that imports and that ``opiekun init``
    applies: the first of the branch (``--head base``), then the next."""
    package = tmp_path / "partner" / "visits_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(PARTNER_PLUGIN)
    environment = {"OPIEKUN_PLUGIN_MODULES": "visits_plugin", "PYTHONPATH": str(tmp_path / "partner")}
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init", **environment).returncode == 0

    not_yet = opiekun(url, tmp_path, "plugins", "migration", "visits", "-m", "visits table", **environment)
    assert not_yet.returncode == 1 and "give --head base for its first one" in not_yet.stderr
    first = opiekun(
        url, tmp_path, "plugins", "migration", "visits", "-m", "visits table", "--head", "base", **environment
    )
    assert first.returncode == 0, first.stderr
    [written] = (package / "migrations").glob("visits_0001*.py")
    source = written.read_text()
    assert 'revision = "visits_0001"' in source and 'branch_labels = ("visits",)' in source
    assert 'depends_on = ("core_0005",)' in source or 'depends_on = "core_0005"' in source
    fill_in(
        written,
        'op.create_table("visits", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("place", sa.String(200)))',
        'op.drop_table("visits")',
    )
    applied = opiekun(url, tmp_path, "init", **environment)
    assert applied.returncode == 0, applied.stderr
    assert "visits_0001" in revisions(url) and count_rows(url, "visits") == 0

    following = opiekun(url, tmp_path, "plugins", "migration", "visits", "-m", "a note per visit", **environment)
    assert following.returncode == 0, following.stderr
    [second] = (package / "migrations").glob("visits_0002*.py")
    assert 'down_revision = "visits_0001"' in second.read_text()
    fill_in(
        second,
        'op.add_column("visits", sa.Column("note", sa.Text()))',
        'with op.batch_alter_table("visits") as batch:\n        batch.drop_column("note")',
    )
    assert opiekun(url, tmp_path, "init", **environment).returncode == 0
    assert "visits_0002" in revisions(url)
    with database(url) as connection:
        assert "note" in {column["name"] for column in inspect(connection).get_columns("visits")}
    # the branch depends on the core's newest revision, so alembic_version no longer lists
    # core_0005: the core is still up to date (before, serve refused: "core (database none…)")
    assert "core_0005" not in revisions(url)
    assert serve_starts(url, tmp_path, **environment)


def serve_starts(database_url: str, folder: Path, **environment: str) -> bool:
    """``opiekun serve`` gets past its checks and announces where it serves (then stopped)."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "opiekun"), "serve", "--port", "0"],
        env=operator_environment(database_url, folder, **environment),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = server.stdout.readline()
        assert announced.startswith("Opiekun on http://"), (announced, server.stderr.read() if server.poll() else "")
        return True
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_app_does_not_serve_a_plugin_whose_tables_are_not_ready(tmp_path, fresh_database):
    """A plugin switched on without ``opiekun init``: ``opiekun serve`` refuses, naming the
    branch and the fix, instead of answering 500 on its pages."""
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="tasks").returncode == 0
    refused = opiekun(url, tmp_path, "serve", "--port", "0")
    assert refused.returncode == 1
    assert (
        "the database schema is behind the code: tasks (database none, code tasks_0003); run opiekun init first"
        in refused.stderr
    )
    assert "Traceback" not in refused.stderr
