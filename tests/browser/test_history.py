"""An admin reads the change history in the panel (Administracja → Historia zmian): filters
by user, record type and operation, and exports exactly the filtered list to Excel."""

from __future__ import annotations

from openpyxl import load_workbook
from playwright.sync_api import expect


def test_an_admin_filters_the_history_and_exports_exactly_that_to_excel(
    admin_page, api, seller, other_seller, tmp_path
):
    first = api.post("/companies", seller, json={"name": "Agro-Tech"}).get_json()
    api.post("/companies", seller, json={"name": "Stal-Bud"})
    assert api.patch(f"/companies/{first['id']}", seller, json={"city": "Poznań"}).status_code == 200
    api.post("/companies", other_seller, json={"name": "Cudza firma"})
    api.post("/persons", seller, json={"first_name": "Jan", "last_name": "Nowak"})

    page = admin_page
    page.goto("/admin/")
    page.get_by_role("link", name="Administracja", exact=True).click()
    page.get_by_role("link", name="Historia zmian").click()
    filters = page.locator("#history-filters")
    filters.get_by_label("Użytkownik").select_option(label=seller["name"])
    filters.get_by_label("Typ rekordu").select_option(label="Firmy")
    filters.get_by_role("button", name="Filtruj").click()

    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(3)  # two companies created, one changed; not the colleague's, not the person
    expect(page.locator("#history")).not_to_contain_text("Cudza firma")
    expect(page.locator("#history")).not_to_contain_text("Nowak")
    page.locator("#history-filters").get_by_label("Operacja").select_option(value="update")
    page.locator("#history-filters").get_by_role("button", name="Filtruj").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Poznań")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Eksportuj listę (.xlsx)").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name.startswith("historia-")
    sheet = load_workbook(saved)["Historia"]  # the user's language: sheet, headers, words
    header, *data = list(sheet.iter_rows(values_only=True))
    assert len(data) == 1, data
    entry = dict(zip(header, data[0], strict=True))
    assert (entry["Użytkownik"], entry["Typ rekordu"], entry["Rekord"], entry["Operacja"]) == (
        seller["name"],
        "Firma",
        "Agro-Tech",
        "edycja",
    )
    assert "Miasto: — → Poznań" in entry["Zmiany"]  # empty before: "—", as on the page
    site = page.url.split("/admin")[0]
    assert entry["Link"].startswith(f"{site}/admin/company/details/?id="), "opens from Excel"
    assert sheet.auto_filter.ref == "A1:L2", "Excel's filter buttons on the header"
    page.goto(entry["Link"])
    expect(page.locator("body")).to_contain_text("Agro-Tech")
