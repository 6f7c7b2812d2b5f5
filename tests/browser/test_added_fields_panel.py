"""A field a plugin adds to companies, in the panel (issue 19): the tests' ``visits`` plugin
adds "Wizyty co (dni)" (``visit_every_days``). A salesperson types it into the company's
form, sees it in the list and filters the list by it, as with the company's own fields.

The suite's shared app has no such plugin, so this module serves an app of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from opiekun.testing.apps import PASSWORD, build_app, close_app
from opiekun.testing.clients import ApiClient
from tests.support import visits_plugin
from tests.support.live_server import served


@pytest.fixture(scope="module")
def visits_server(tmp_path_factory, fresh_database) -> Iterator[tuple[str, ApiClient]]:
    app = build_app(tmp_path_factory.mktemp("visits-panel"), fresh_database.url(), extra_plugins=[visits_plugin])
    with served(app) as url:
        yield url, ApiClient(app)
    close_app(app)


def test_a_salesperson_sets_the_field_in_the_form_and_filters_by_it(page, visits_server):
    url, api = visits_server
    seller = api.create_user("seller@firma.example", name="Stefan Sprzedawca")
    firm = api.post("/companies", seller, json={"name": "Piekarnia Kłos"}).get_json()
    api.post("/companies", seller, json={"name": "Młyn Żarno", "visit_every_days": 90})

    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill(seller["email"])
    page.get_by_label("Hasło").fill(PASSWORD)
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_url("**/admin/")

    page.goto(f"{url}/admin/company/edit/?id={firm['id']}")
    page.get_by_label("Wizyty co (dni)").fill("400")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("body")).to_contain_text("must be 1 to 365 days")
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["visit_every_days"] is None

    page.get_by_label("Wizyty co (dni)").fill("14")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["visit_every_days"] == 14

    page.goto(f"{url}/admin/company/")
    table = page.locator("table.model-list")
    expect(table.locator("th")).to_contain_text(["Wizyty co (dni)"])
    expect(table).to_contain_text("Młyn Żarno")
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Dodaj filtr").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Wizyty co (dni)", exact=True).click()
    page.locator("select.filter-op").last.select_option(label="mniejsze niż", force=True)
    page.locator("input.filter-val").last.fill("30")
    page.get_by_role("button", name="Zastosuj").click()
    expect(page).to_have_url(re.compile(r"flt\d+_\d+=30"))
    expect(table).to_contain_text("Piekarnia Kłos")
    expect(table).to_contain_text("14")
    expect(table).not_to_contain_text("Młyn Żarno")
