"""Plugins back after a time off catch up with the records changed meanwhile (issue 18):
a team switches ownership, tasks, audit and offboarding off, works on, and switches them
on again. ``opiekun init`` then removes the owner periods of deleted records, starts the
periods of owners given meanwhile, keeps the tasks of deleted records on no record, tells
the administrators of users who departed meanwhile, and states the history's gap — on
the command line, on the plugins page and above the history."""

from __future__ import annotations

from opiekun.testing.apps import build_app, close_app
from opiekun.testing.clients import ApiClient, logged_in
from tests.core.test_plugin_lifecycle import opiekun, query


def periods_of(database_url: str, company_id: int) -> list[tuple]:
    return query(
        database_url,
        "SELECT user_id, valid_to IS NULL FROM ownership_assignments "
        "WHERE object_type = 'company' AND object_id = :id AND kind = 'primary' ORDER BY valid_from, id",
        id=company_id,
    )


def test_plugins_back_from_a_time_off_catch_up_with_the_records_changed_meanwhile(tmp_path, fresh_database):
    url = fresh_database.url()
    everything = build_app(tmp_path / "all", url)
    api = ApiClient(everything)
    admin = api.create_user("admin@firma.example", role="admin", name="Ada Admin")
    anna = api.create_user("anna@firma.example", role="manager", name="Anna Nowak")
    piotr = api.create_user("piotr@firma.example", role="manager", name="Piotr Wójcik")
    deleted, given, kept = (
        api.post("/companies", admin, json={"name": name, "owner_id": anna["id"]}).get_json()
        for name in ("Agro-Tech", "Budimex", "Cukiernia")
    )
    type_id = api.get("/task-types", admin).get_json()["items"][0]["id"]
    task = api.post(
        "/tasks",
        admin,
        json={"title": "Telefon", "type_id": type_id, "object_type": "company", "object_id": deleted["id"]},
    ).get_json()
    assert periods_of(url, deleted["id"]) == [(anna["id"], True)]
    close_app(everything)

    off = opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="ownership,tasks,audit,offboarding")
    assert off.returncode == 0, off.stderr
    listed = opiekun(url, tmp_path, "plugins", OPIEKUN_PLUGINS_DISABLED="ownership,tasks,audit,offboarding")
    assert "    off since " in listed.stdout

    reduced = build_app(tmp_path / "reduced", url, plugins_disabled=("ownership", "tasks", "audit", "offboarding"))
    api_off = ApiClient(reduced)
    assert api_off.delete(f"/companies/{deleted['id']}", admin).status_code == 204
    assert api_off.patch(f"/companies/{given['id']}", admin, json={"owner_id": piotr["id"]}).status_code == 200
    created = api_off.post("/companies", admin, json={"name": "Drukarnia", "owner_id": piotr["id"]}).get_json()
    leaver = api_off.create_user("leaver@firma.example", name="Leon Odchodzący")
    assert api_off.patch(f"/users/{leaver['id']}", admin, json={"status": "departed"}).status_code == 200
    close_app(reduced)
    assert periods_of(url, deleted["id"]) == [(anna["id"], True)], "nobody told ownership while it was off"

    back = opiekun(url, tmp_path, "init")
    assert back.returncode == 0, back.stderr
    out = back.stdout
    assert "plugin ownership is back (off " in out, out
    assert "1 owner period of records deleted meanwhile removed" in out
    assert "1 record was given another owner meanwhile: that owner's period starts today" in out
    assert "1 record created meanwhile got its first owner period" in out
    assert "plugin tasks is back" in out and "1 task of records deleted meanwhile kept on no record" in out
    assert "plugin audit is back" in out and "changes made while the history was off were not recorded" in out
    assert "plugin offboarding is back" in out
    assert "1 user departed meanwhile: the administrators are told to review their items" in out

    assert periods_of(url, deleted["id"]) == []
    assert periods_of(url, given["id"]) == [(piotr["id"], True)], "the owner given meanwhile owns it from today"
    assert periods_of(url, kept["id"]) == [(anna["id"], True)], "an unchanged record keeps its period"
    assert periods_of(url, created["id"]) == [(piotr["id"], True)]
    assert query(url, "SELECT object_type, object_id FROM tasks WHERE id = :id", id=task["id"]) == [(None, None)]
    told = query(url, "SELECT user_id, object_id FROM notifications WHERE kind = 'offboarding.departed'")
    assert sorted(told) == [(admin["id"], leaver["id"])], "the active admin is told, once"

    again = opiekun(url, tmp_path, "init")
    assert again.returncode == 0 and "is back" not in again.stdout, "caught up once"
    listed = opiekun(url, tmp_path, "plugins")
    assert "    last off " in listed.stdout and "caught up " in listed.stdout
    assert "        1 owner period of records deleted meanwhile removed" in listed.stdout

    on_again = build_app(tmp_path / "again", url)
    browser = logged_in(on_again, admin)
    plugins_page = browser.text("/admin/plugins/")
    row = plugins_page[plugins_page.index('id="plugin-ownership"') :].split("</tr>")[0]
    assert "Wyłączony od " in row and "Dane uzgodnione ze zmianami rekordów z tego czasu" in row
    assert "Usunięto 1 okres opiekuna rekordów usuniętych w tym czasie" in row
    history = browser.text("/admin/audit/")
    assert "historia nie była zapisywana: historia zmian była wyłączona" in history
    section = browser.text(f"/admin/company/details/?id={kept['id']}")
    assert "historia nie była zapisywana" in section, "a record older than the gap says its history has one"
    listed = ApiClient(on_again).get("/audit", admin).get_json()
    [gap] = listed["gaps"]
    assert gap["off_from"] < gap["off_until"], "integrators see the gap too"
    close_app(on_again)


def test_a_plugin_switched_on_for_the_first_time_has_no_time_off(tmp_path, fresh_database):
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init", OPIEKUN_PLUGINS_DISABLED="tasks").returncode == 0
    first = opiekun(url, tmp_path, "init")
    assert first.returncode == 0, first.stderr
    assert "is back" not in first.stdout
    assert query(url, "SELECT count(*) FROM plugin_gaps") == [(0,)]


def test_a_command_run_with_other_plugins_for_a_look_starts_no_time_off(tmp_path, fresh_database):
    """Only running the deployment (init, serve, worker, scheduler) counts: an operator who
    looks at what uninstalling audit would drop, with audit switched off for that command,
    leaves the history without a false gap."""
    url = fresh_database.url()
    assert opiekun(url, tmp_path, "init").returncode == 0
    looked = opiekun(url, tmp_path, "plugins", "uninstall", "audit", input_text="n\n", OPIEKUN_PLUGINS_DISABLED="audit")
    assert looked.returncode == 1 and "nothing was changed" in looked.stderr
    assert query(url, "SELECT enabled FROM plugin_activity WHERE plugin = 'audit'") == [(True,)]
    assert "is back" not in opiekun(url, tmp_path, "init").stdout
