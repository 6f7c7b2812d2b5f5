"""Shared pieces of the audit tests: an app with the audit plugin and the partner plugin
only (audit must work knowing no other plugin), and helpers to read the history."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from opiekun.extensions import db
from tests.conftest import build_app

#: The plugins of the audit tests' app.
AUDIT_PLUGINS = ("audit", "contracts")


def audit_app_fixture(name: str = "audit"):
    """A module-scoped ``app`` fixture (overriding the shared one) with audit and contracts."""

    @pytest.fixture(scope="module")
    def app(tmp_path_factory, fresh_database):
        application = build_app(tmp_path_factory.mktemp(name), fresh_database.url(), plugins=AUDIT_PLUGINS)
        yield application
        with application.app_context():
            db.engine.dispose()

    return app


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
    return {item["field"]: (item["old"], item["new"]) for item in entry["changes"]}


def workbook_rows(content: bytes) -> list[list]:
    """Every data row of every sheet of an .xlsx, in order (headers left out)."""
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = []
    for sheet in workbook.worksheets:
        rows.extend(list(row) for row in list(sheet.iter_rows(values_only=True))[1:])
    return rows
