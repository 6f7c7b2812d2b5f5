"""Reading the history in the audit tests: every entry matching filters (through the
API), an entry's changes, and the rows of an exported workbook."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def history(api, user, **filters) -> list[dict]:
    """Every entry matching ``filters`` (all pages), newest first."""
    items, page = [], 1
    while True:
        response = api.get("/audit", user, query_string={**filters, "page": page, "per_page": 500})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items.extend(body["items"])
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def changes_of(entry: dict) -> dict[str, tuple]:
    """An entry's changes as ``{field: (old, new)}``."""
    return {item["field"]: (item["old"], item["new"]) for item in entry["changes"]}


def workbook_rows(content: bytes) -> list[list]:
    """Every data row of every sheet of an .xlsx, in order (headers left out)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = []
    for sheet in workbook.worksheets:
        rows.extend(list(row) for row in list(sheet.iter_rows(values_only=True))[1:])
    return rows
