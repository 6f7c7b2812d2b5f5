"""In the admin panel (Administration → Change history) an administrator filters the
history by dates, user (departed ones too), record type, one record and operation,
exports exactly what the filter shows, checks the history's integrity (a long history in
the background, with progress), and sees a "History" section on each record's page. Other
users are turned away."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import time
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import text

from opiekun.extensions import db
from opiekun.jobs import job_state
from opiekun.testing.clients import flashed, logged_in
from tests.audit.history_helpers import history, workbook_rows


def page_text(browser, url: str) -> str:
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def entry_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="entry-(\d+)"', page)]


def test_the_history_page_filters_and_exports_exactly_what_it_shows(app, api, admin, seller, other_seller):
    company = api.post("/companies", seller, json={"name": "Panel-Bud", "city": "Tczew"}).get_json()
    api.patch(f"/companies/{company['id']}", admin, json={"city": "Malbork"})
    api.post("/persons", other_seller, json={"first_name": "Iga", "last_name": "Kot"})
    api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, admin)

    page = page_text(browser, "/admin/audit/")
    assert "Panel-Bud" in page and "Tczew" in page and "Malbork" in page
    assert f"{seller['name']} (departed)" in page, "departed users are offered in the user filter"
    assert len(entry_ids(page)) == 3

    page = page_text(browser, f"/admin/audit/?user_id={seller['id']}")
    assert entry_ids(page) == [entry["id"] for entry in history(api, admin, user_id=seller["id"])]
    page = page_text(browser, f"/admin/audit/?object_type=company&object_id={company['id']}&operation=update")
    [shown] = entry_ids(page)
    assert "Tczew → Malbork" in page

    export_link = re.search(r'id="export-link" href="([^"]+)"', page).group(1)
    response = browser.get(html.unescape(export_link))
    assert response.status_code == 200
    assert [row[0] for row in workbook_rows(response.get_data())] == [shown], "exactly the current filter"

    page = page_text(browser, "/admin/audit/?from=2026-99-01")
    assert (
        'id="filter-problems"' in page
        and "Od: to nie jest data: użyj formatu RRRR-MM-DD" in page
        and entry_ids(page) == []
    )
    page = page_text(browser, "/admin/audit/?user_id=777777")
    assert (
        "Użytkownik: nie ma użytkownika o id 777777" in page
        and entry_ids(page) == []
        and 'id="export-link"' not in page
    )


def test_the_history_page_comes_in_pages(app, api, admin, seller, monkeypatch):
    from opiekun.plugins.audit import admin as audit_admin

    monkeypatch.setattr(audit_admin, "PAGE_SIZE", 2)
    for name in ("Strona 1", "Strona 2", "Strona 3"):
        api.post("/companies", seller, json={"name": name})
    browser = logged_in(app, admin)
    newest = [entry["id"] for entry in history(api, admin, object_type="company")]
    first = entry_ids(page_text(browser, "/admin/audit/"))
    second = entry_ids(page_text(browser, "/admin/audit/?page=2"))
    assert first + second == newest and len(second) == 1
    assert "1 / 2" in page_text(browser, "/admin/audit/")
    for page in ("0", "abc", "-1", "1000001", "99999999999999999999"):
        shown = entry_ids(page_text(browser, f"/admin/audit/?page={page}"))
        assert shown == first, f"?page={page} opens the first page"
    assert entry_ids(page_text(browser, "/admin/audit/?page=3")) == [], "beyond the last page: empty"


def test_each_record_page_has_its_history(app, api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Z historią"}).get_json()
    api.patch(f"/companies/{company['id']}", seller, json={"name": "Z historią 2"})
    page = page_text(logged_in(app, admin), f"/admin/company/details/?id={company['id']}")
    assert 'id="record-history"' in page and "Z historią → Z historią 2" in page
    assert f"object_type=company&object_id={company['id']}" in page
    seller_page = page_text(logged_in(app, seller), f"/admin/company/details/?id={company['id']}")
    assert 'id="record-history"' not in seller_page, "the history is for those who may see it"


def test_the_integrity_page_names_the_first_altered_entry(app, api, admin, seller):
    api.post("/companies", seller, json={"name": "Nienaruszona"})
    browser = logged_in(app, admin)
    assert 'class="alert alert-success" id="integrity-verdict"' in page_text(browser, "/admin/audit-integrity/")
    [entry] = history(api, admin)
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_entries SET object_name = 'Podmieniona' WHERE id = :id"), {"id": entry["id"]}
        )
        db.session.commit()
    page = page_text(browser, "/admin/audit-integrity/")
    assert 'class="alert alert-danger" id="integrity-verdict"' in page and f"#{entry['id']}" in page


def check_in_the_background(app, browser) -> tuple[str, str]:
    """Open the integrity page with a small inline limit; follow the background check to
    its verdict. Returns the run's URL and the final page."""
    app.config["AUDIT_VERIFY_INLINE_ROWS"] = 2
    try:
        response = browser.get("/admin/audit-integrity/")
    finally:
        app.config.pop("AUDIT_VERIFY_INLINE_ROWS")
    assert response.status_code == 302, response.status_code
    run_url = response.headers["Location"]
    deadline = time.monotonic() + 30
    while 'id="integrity-verdict"' not in (page := page_text(browser, run_url)) and time.monotonic() < deadline:
        assert 'id="integrity-progress"' in page and 'http-equiv="refresh"' in page, "progress, refreshed"
        time.sleep(0.1)
    assert 'http-equiv="refresh"' not in page, "a verdict stays put"
    return run_url, page


def test_a_long_history_is_checked_in_the_background_with_progress(app, api, admin, seller):
    for number in range(3):
        api.post("/companies", seller, json={"name": f"Długa historia {number}"})
    browser = logged_in(app, admin)
    run_url, page = check_in_the_background(app, browser)
    assert 'class="alert alert-success" id="integrity-verdict"' in page
    with app.app_context():
        state = job_state(run_url.rstrip("/").rsplit("/", 1)[1])
    assert state["name"] == "audit.verify" and state["progress_done"] == state["progress_total"] == 3
    assert state["result"]["ok"] is True and state["result"]["checked"] == 3
    assert logged_in(app, seller).get(run_url).status_code == 403
    assert browser.get("/admin/audit-integrity/runs/00000000-0000-0000-0000-000000000000").status_code == 404

    first = history(api, admin)[-1]
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_entries SET object_name = 'Podmieniona' WHERE id = :id"), {"id": first["id"]}
        )
        db.session.commit()
    _, page = check_in_the_background(app, browser)
    assert 'class="alert alert-danger" id="integrity-verdict"' in page and f"#{first['id']}" in page


def test_others_may_not_see_the_history_pages(app, api, seller):
    browser = logged_in(app, seller)
    for url in ("/admin/audit/", "/admin/audit/export.xlsx", "/admin/audit-integrity/"):
        assert browser.get(url).status_code == 403, url
    assert app.test_client().get("/admin/audit/").status_code == 302, "guests go to the login page"


# --- anonymizing a person from the panel ---------------------------------------------------------


def a_person(api, user) -> dict:
    response = api.post(
        "/persons", user, json={"first_name": "Ewa", "last_name": "Nowak", "email": "ewa@nowak.example"}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_forged_anonymization_by_a_salesperson_is_refused_and_changes_nothing(app, api, seller):
    person = a_person(api, seller)
    browser = logged_in(app, seller)
    token = browser.csrf_token("/admin/")
    response = browser.http.post(f"/admin/audit_anonymize/person/{person['id']}/", data={"csrf_token": token})
    assert response.status_code == 403
    assert api.get(f"/persons/{person['id']}", seller).get_json()["email"] == "ewa@nowak.example"


def test_anonymizing_an_unknown_person_is_404_and_twice_is_told(app, api, admin, seller):
    person = a_person(api, seller)
    browser = logged_in(app, admin)
    token = browser.csrf_token("/admin/")
    for url in ("/admin/audit_anonymize/person/999999/", f"/admin/audit_anonymize/person/{2**40}/"):
        assert browser.get(url).status_code == 404, url
        assert browser.http.post(url, data={"csrf_token": token}).status_code == 404, url
    url = f"/admin/audit_anonymize/person/{person['id']}/"
    assert browser.http.post(url, data={"csrf_token": token}).status_code == 302
    again = browser.http.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "została już zanonimizowana" in flashed(again)
    assert browser.http.post(url, data={}).status_code == 400, "no CSRF token, no change"


def test_a_large_export_from_the_panel_runs_in_the_background_in_the_users_language(app, api, admin, seller):
    for name in ("Alfa", "Beta", "Gamma"):
        api.post("/companies", seller, json={"name": name})
    browser = logged_in(app, admin)
    app.config["AUDIT_EXPORT_INLINE_ROWS"] = 1
    try:
        started = browser.get("/admin/audit/export.xlsx?object_type=company")
    finally:
        app.config.pop("AUDIT_EXPORT_INLINE_ROWS")
    assert started.status_code == 302 and "/exports/" in started.headers["Location"]
    progress_url = started.headers["Location"]
    deadline = time.monotonic() + 30
    while "Pobierz" not in page_text(browser, progress_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    download = browser.get(progress_url.rstrip("/") + ".xlsx")
    assert download.status_code == 200
    assert "historia-" in download.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(download.get_data()))["Historia"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("ID", "Data (Europe/Warsaw)", "ID użytkownika", "Użytkownik")
    assert {row[5] for row in rows} == {"Firma"} and {row[9] for row in rows} == {"utworzenie"}
    assert any(row[10].startswith("Nazwa: — → Alfa") for row in rows), "nothing shown as '—', as on the page"
    assert all(row[8].startswith("http://localhost/admin/company/details/?id=") for row in rows), "absolute links"
    assert sheet.auto_filter.ref == f"A1:L{len(rows) + 1}"
    api_file = api.get("/audit/export.xlsx", admin, query_string={"object_type": "company"})
    api_header, *api_rows = load_workbook(io.BytesIO(api_file.get_data()))["History"].iter_rows(values_only=True)
    assert api_header[3] == "User", "the API's workbook stays English for integrators"
    assert api_header[1] == "Date (UTC)"
    utc_times = {row[0]: row[1] for row in api_rows}
    for row in rows:  # the same moments, on the admin's clock (Warsaw) and in UTC
        offset = ZoneInfo("Europe/Warsaw").utcoffset(utc_times[row[0]])
        assert abs(row[1] - utc_times[row[0]] - offset) < dt.timedelta(seconds=1), row
