"""The administrator exports the history to Excel ("Eksportuj listę"), checks that nobody
altered it behind the application's back, and anonymizes a person (GDPR)."""

from __future__ import annotations

import datetime as dt
import io
import os
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from opiekun.changes import Actor, acting_as, change_context, update_records
from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.clients import flashed, logged_in
from tests.audit.history_helpers import changes_of, history, workbook_rows


def make_history(api, seller, companies: int = 3) -> list[int]:
    ids = []
    for number in range(companies):
        company = api.post("/companies", seller, json={"name": f"Eksport {number}", "city": "Opole"}).get_json()
        api.patch(f"/companies/{company['id']}", seller, json={"city": "Nysa"})
        ids.append(company["id"])
    return ids


# --- export ---------------------------------------------------------------------------------


def test_the_export_opens_in_openpyxl_and_has_the_same_rows_as_the_api(api, admin, seller):
    make_history(api, seller)
    api.post("/persons", seller, json={"first_name": "Ewa", "last_name": "Lis"})
    for filters in ({}, {"object_type": "company", "operation": "update"}, {"user_id": seller["id"]}):
        response = api.get("/audit/export.xlsx", admin, query_string=filters)
        assert response.status_code == 200, response.get_data()
        assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        rows = workbook_rows(response.get_data())
        entries = history(api, admin, **filters)
        assert [row[0] for row in rows] == [entry["id"] for entry in entries], filters
        for row, entry in zip(rows, entries, strict=False):
            assert isinstance(row[1], dt.datetime), "dates are real Excel dates"
            at = dt.datetime.fromisoformat(entry["at"]).astimezone(dt.UTC).replace(tzinfo=None)
            assert abs(row[1] - at) < dt.timedelta(seconds=1)
            assert row[3] == entry["user_name"] and row[5] == entry["object_type"] and row[6] == entry["object_id"]
            assert row[7] == entry["object_name"] and row[9] == entry["operation"]
        if filters.get("operation") == "update":
            assert all(row[10] == "City: Opole → Nysa" for row in rows)


def test_changes_and_context_read_with_their_human_labels_as_in_the_api(app, api, admin, seller):
    """Per-record and set-based changes (whose JSON is built in SQL) and a change's context
    read in the sheet as the API's entries say them."""
    from opiekun.plugins.audit.export import changes_text, context_text

    company = api.post("/companies", seller, json={"name": "Etykiety", "city": "Opole"}).get_json()
    api.patch(f"/companies/{company['id']}", seller, json={"city": "Nysa", "owner_id": admin["id"]})
    with app.app_context(), acting_as(Actor(job="cleanup")), change_context(transfer_id=7, reason="test"):
        update_records(db.session, Company, Company.id == company["id"], {"owner_id": seller["id"]})
        db.session.commit()
    rows = workbook_rows(api.get("/audit/export.xlsx", admin, query_string={"object_type": "company"}).get_data())
    entries = history(api, admin, object_type="company")
    assert [row[0] for row in rows] == [entry["id"] for entry in entries]
    assert rows[0][4] == "cleanup" and rows[0][11] == "reason=test, transfer_id=7"
    assert rows[0][10] == f"Owner: {admin['name']} [{admin['id']}] → {seller['name']} [{seller['id']}]"
    assert (
        rows[1][10] == f"City: Opole → Nysa\nOwner: {seller['name']} [{seller['id']}] → {admin['name']} [{admin['id']}]"
    )
    for row, entry in zip(rows, entries, strict=False):
        assert row[10] == changes_text(entry["changes"]) and (row[11] or "") == context_text(entry["context"])


def test_dates_are_formatted_as_dates_in_the_sheet(api, admin, seller):
    make_history(api, seller, companies=1)
    workbook = load_workbook(io.BytesIO(api.get("/audit/export.xlsx", admin).get_data()))
    cell = workbook.active["B2"]
    assert cell.is_date and isinstance(cell.value, dt.datetime)
    assert [c.value for c in workbook.active[1]][:4] == ["ID", "Date (UTC)", "User ID", "User"]


def test_an_empty_result_is_a_valid_empty_file(api, admin, seller):
    make_history(api, seller, companies=1)
    response = api.get("/audit/export.xlsx", admin, query_string={"operation": "delete"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["History"] and workbook.active.max_row == 1, "the header only"


def test_bad_export_filters_are_refused(api, admin, seller):
    assert api.get("/audit/export.xlsx", admin, query_string={"from": "2026-02-30"}).status_code == 422
    assert api.get("/audit/export.xlsx", admin, query_string={"user_id": 4242}).status_code == 422
    assert api.get("/audit/export.xlsx", seller).status_code == 403


def test_a_large_export_runs_as_a_job_with_progress_and_a_download_link(app, api, admin, seller, manager):
    make_history(api, seller, companies=4)
    app.config["AUDIT_EXPORT_INLINE_ROWS"] = 5
    try:
        response = api.get("/audit/export.xlsx", admin, query_string={"object_type": "company"})
    finally:
        app.config.pop("AUDIT_EXPORT_INLINE_ROWS")
    assert response.status_code == 202, response.get_json()
    started = response.get_json()
    deadline = time.monotonic() + 30
    while True:
        state = api.get(started["status_url"].removeprefix("/api/v1"), admin).get_json()
        if state["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state["status"] == "done", state
    assert state["rows"] == 8 and state["progress_done"] == 8 and state["progress_total"] == 8
    assert api.get(started["status_url"].removeprefix("/api/v1"), manager).status_code == 403
    download = api.get(state["download_url"].removeprefix("/api/v1"), admin)
    assert download.status_code == 200
    assert [row[0] for row in workbook_rows(download.get_data())] == [
        e["id"] for e in history(api, admin, object_type="company")
    ]
    assert api.get("/audit/exports/00000000-0000-0000-0000-000000000000", admin).status_code == 404


def test_past_the_row_limit_of_a_sheet_the_export_continues_on_the_next(app, tmp_path):
    from opiekun.plugins.audit.export import write_workbook

    rows = (
        (
            number,
            dt.datetime(2026, 1, 1),
            None,
            "Ada",
            None,
            "company",
            number,
            f"Firma {number}",
            None,
            "create",
            "",
            "",
        )
        for number in range(1, 8)
    )
    target = tmp_path / "split.xlsx"
    assert write_workbook(rows, target, max_rows=3) == 7
    workbook = load_workbook(target, read_only=True)
    assert workbook.sheetnames == ["History", "History (2)", "History (3)", "History (4)"]
    assert [len(list(sheet.iter_rows())) for sheet in workbook.worksheets] == [3, 3, 3, 2], "a header on every sheet"


# --- tamper evidence ---------------------------------------------------------------------------


def verify_cli(app) -> tuple[int, str]:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_tampering_with_a_row_in_the_database_is_detected_and_named(app, api, admin, seller):
    make_history(api, seller, companies=3)
    verdict = api.get("/audit/verify", admin).get_json()
    assert verdict["ok"] is True and verdict["checked"] == 6
    assert verify_cli(app)[0] == 0

    entries = sorted(history(api, admin), key=lambda entry: entry["id"])
    victim = entries[2]
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_entries SET user_name = 'Ktoś Inny' WHERE id = :id"), {"id": victim["id"]}
        )
        db.session.commit()
    verdict = api.get("/audit/verify", admin).get_json()
    assert verdict["ok"] is False and verdict["bad_entry_id"] == victim["id"], verdict
    code, output = verify_cli(app)
    assert code == 1 and f"#{victim['id']}" in output


def test_a_removed_entry_is_detected_too(app, api, admin, seller):
    make_history(api, seller, companies=2)
    entries = sorted(history(api, admin), key=lambda entry: entry["id"])
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[1]["id"]})
        db.session.commit()
    verdict = api.get("/audit/verify", admin).get_json()
    assert verdict["ok"] is False and verdict["bad_entry_id"] == entries[2]["id"]


def test_removing_the_newest_entries_is_detected(app, api, admin, seller):
    make_history(api, seller, companies=2)
    newest = max(entry["id"] for entry in history(api, admin))
    with app.app_context():
        db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": newest})
        db.session.commit()
    assert api.get("/audit/verify", admin).get_json()["ok"] is False


# --- anonymization -----------------------------------------------------------------------------


def test_anonymizing_a_person_rewrites_their_history_and_leaves_one_anonymize_entry(app, api, admin, seller, pipeline):
    person = api.post(
        "/persons",
        seller,
        json={
            "first_name": "Jan",
            "last_name": "Kowalski",
            "email": "jan@k.pl",
            "phone": "+48 600 100 200",
            "position": "Prezes",
        },
    ).get_json()
    api.patch(f"/persons/{person['id']}", seller, json={"phone": "+48 600 999 999"})
    deal = api.post("/deals", seller, json={"name": "Umowa", "person_id": person["id"]}).get_json()

    response = api.post(f"/persons/{person['id']}/anonymize", admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rewritten_entries"] == 3

    record = api.get(f"/persons/{person['id']}", admin).get_json()
    assert record["email"] is None and record["phone"] is None and "Kowalski" not in record["last_name"]

    entries = history(api, admin, object_type="person", object_id=person["id"])
    assert [entry["operation"] for entry in entries] == ["anonymize", "update", "create"]
    anonymized = entries[0]
    assert anonymized["user_id"] == admin["id"] and anonymized["user_name"] == admin["name"], "who did it"
    everything = str(history(api, admin))
    for secret in ("Jan", "Kowalski", "jan@k.pl", "600 100 200", "600 999 999", "Prezes"):
        assert secret not in everything, secret
    assert changes_of(entries[1])["phone"] == ("(anonymized)", "(anonymized)")
    deal_entry = history(api, admin, object_type="deal", object_id=deal["id"])[0]
    assert [item["new_label"] for item in deal_entry["changes"] if item["field"] == "person_id"] == ["(anonymized)"]
    export = str(workbook_rows(api.get("/audit/export.xlsx", admin).get_data()))
    assert "Kowalski" not in export and "jan@k.pl" not in export

    assert api.get("/audit/verify", admin).get_json()["ok"] is True, "the chain stays verifiable"
    with app.app_context():  # …and an anonymized entry altered afterwards is still caught
        db.session.execute(
            text("UPDATE audit_entries SET object_name = 'Jan Kowalski' WHERE id = :id"), {"id": entries[2]["id"]}
        )
        db.session.commit()
    verdict = api.get("/audit/verify", admin).get_json()
    assert verdict["ok"] is False and verdict["bad_entry_id"] == entries[2]["id"]


def test_anonymizing_what_is_not_a_person_is_refused_and_changes_nothing(api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Firma"}).get_json()
    before = history(api, admin)
    assert api.post("/persons/999999/anonymize", admin).status_code == 404
    response = api.post("/audit/anonymize", admin, json={"object_type": "company", "object_id": company["id"]})
    assert response.status_code == 422 and "object_type" in response.get_json()["error"]["fields"]
    response = api.post("/audit/anonymize", admin, json={"object_type": "person", "object_id": 424242})
    assert response.status_code == 422 and "object_id" in response.get_json()["error"]["fields"]
    assert api.post("/audit/anonymize", admin, json={"object_type": "spaceship", "object_id": 1}).status_code == 422
    person = api.post("/persons", seller, json={"first_name": "Ola", "last_name": "Nowak"}).get_json()
    assert api.post(f"/persons/{person['id']}/anonymize", seller).status_code == 403
    assert history(api, admin)[1:] == before
    assert api.post(f"/persons/{person['id']}/anonymize", admin).status_code == 200
    assert api.post(f"/persons/{person['id']}/anonymize", admin).status_code == 409, "already anonymized"


# --- export files do not outlive their use -------------------------------------------------


def background_export(app, api, admin, **filters) -> dict:
    """Start an export as a background job, wait until it is done; its finished state."""
    started = api.post("/audit/exports", admin, json={"filters": filters})
    assert started.status_code == 202, started.get_json()
    status_url = started.get_json()["status_url"].removeprefix("/api/v1")
    deadline = time.monotonic() + 30
    while (state := api.get(status_url, admin).get_json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert state["status"] == "done", state
    return state


def age_export_file(app, job_id: str, hours: float) -> None:
    from opiekun.plugins.audit.jobs import export_path

    with app.app_context():
        path = export_path(job_id)
        moment = time.time() - hours * 3600
        os.utime(path, (moment, moment))


def download(api, admin, state: dict):
    return api.get(state["download_url"].removeprefix("/api/v1"), admin)


def test_export_files_expire_after_the_retention_and_say_so(app, api, admin, seller):
    make_history(api, seller, companies=1)
    old = background_export(app, api, admin, object_type="company")
    recent = background_export(app, api, admin, object_type="company")
    assert download(api, admin, old).status_code == 200
    age_export_file(app, old["job_id"], hours=25)
    age_export_file(app, recent["job_id"], hours=23)
    background_export(app, api, admin, object_type="person")  # a new export clears expired ones first
    gone = download(api, admin, old)
    assert gone.status_code == 410
    assert gone.get_json()["error"]["code"] == "gone"
    assert (
        "kept 24 hours" in gone.get_json()["error"]["message"]
        and "start a new export" in gone.get_json()["error"]["message"]
    )
    assert download(api, admin, recent).status_code == 200, "younger than 24 hours: kept"

    from opiekun.plugins.audit import jobs

    assert (jobs.EXPIRE_EXPORTS, "45 * * * *") in {(s.job, s.cron) for s in app.extensions["opiekun.schedules"]}
    app.config["AUDIT_EXPORT_RETENTION_HOURS"] = 12  # what OPIEKUN_EXPORT_RETENTION_HOURS sets
    try:
        with app.app_context():
            assert jobs.expire_exports() == {"expired": 1}, "the hourly job, with a shorter retention"
        assert download(api, admin, recent).status_code == 410
    finally:
        app.config.pop("AUDIT_EXPORT_RETENTION_HOURS")


def test_the_retention_of_exports_must_be_a_positive_number(app, monkeypatch):
    from opiekun.config import ConfigurationError
    from opiekun.plugins.audit import jobs

    with app.app_context():
        monkeypatch.setenv("OPIEKUN_EXPORT_RETENTION_HOURS", "0.5")
        assert jobs.export_retention().total_seconds() == 1800
        for wrong in ("0", "-1", "abc", "nan"):
            monkeypatch.setenv("OPIEKUN_EXPORT_RETENTION_HOURS", wrong)
            with pytest.raises(ConfigurationError, match="OPIEKUN_EXPORT_RETENTION_HOURS"):
                jobs.export_retention()


def test_anonymizing_a_person_deletes_every_export_file(app, api, admin, seller):
    person = api.post(
        "/persons", seller, json={"first_name": "Jan", "last_name": "Kowalski", "email": "jan@k.pl"}
    ).get_json()
    with_person = background_export(app, api, admin, object_type="person")
    without_filter = background_export(app, api, admin)
    assert "Kowalski" in str(workbook_rows(download(api, admin, with_person).get_data()))

    assert api.post(f"/persons/{person['id']}/anonymize", admin).status_code == 200
    for state in (with_person, without_filter):
        gone = download(api, admin, state)
        assert gone.status_code == 410 and "anonymized" in gone.get_json()["error"]["message"]
    from opiekun.plugins.audit.jobs import export_folder

    with app.app_context():
        assert list(export_folder().iterdir()) == []
    browser = logged_in(app, admin)
    page = browser.get(f"/admin/audit/exports/{with_person['job_id']}.xlsx", follow_redirects=True)
    assert page.status_code == 200 and "Kowalski" not in page.get_data(as_text=True)
    assert "no longer available" in flashed(page) or "nie jest już dostępny" in flashed(page)
