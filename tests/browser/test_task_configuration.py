"""An admin configures tasks in the panel: new task types and statuses (Livespace: "Typy
zadań", "Statusy zadań")."""

from __future__ import annotations

from playwright.sync_api import expect


def open_from_menu(page, category: str, item: str) -> None:
    page.goto("/admin/")
    page.get_by_role("link", name=category, exact=True).first.click()
    page.get_by_role("link", name=item, exact=True).click()


def test_an_admin_creates_a_task_type_and_is_told_when_its_name_is_taken(admin_page):
    page = admin_page
    open_from_menu(page, "Zadania", "Typy zadań")

    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("Wizyta u klienta")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Wizyta u klienta")

    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("WIZYTA u klienta")  # the same name, other case
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-danger")).to_contain_text("Nazwa 'WIZYTA u klienta' jest już zajęta")  # the API's words
    expect(page.get_by_label("Nazwa")).to_have_value("WIZYTA u klienta")  # the form is kept for correcting


def test_an_admin_creates_a_task_status(admin_page):
    page = admin_page
    open_from_menu(page, "Zadania", "Statusy zadań")
    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("Czeka na klienta")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Czeka na klienta")


def add_an_item(page) -> None:
    """ "Dodaj pozycję" (once the form's scripts ran: before, the button does nothing)."""
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Dodaj pozycję").click()
    expect(page.locator("#items-0")).to_be_visible()


def templates_of(api, admin) -> dict[str, dict]:
    response = api.get("/task-templates", admin)
    assert response.status_code == 200, response.get_json()
    return {template["name"]: template for template in response.get_json()["items"]}


def test_an_admin_creates_a_task_template_with_items_and_edits_it(admin_page, api, admin, seller):
    page = admin_page
    open_from_menu(page, "Zadania", "Szablony zadań")
    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("Nowy klient")
    add_an_item(page)
    # the labels of a new item point nowhere (Flask-Admin renames the fields it adds): by name
    item = page.locator("#items-0")
    item.locator("[name='items-0-title']").fill("Telefon powitalny")
    item.locator("select[name='items-0-type']").select_option(label="Telefon", force=True)  # under select2
    item.locator("select[name='items-0-responsible']").select_option(label="opiekun rekordu", force=True)
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Telefon powitalny")
    saved = templates_of(api, admin)["Nowy klient"]
    assert [(entry["title"], entry["responsible"]) for entry in saved["items"]] == [
        ("Telefon powitalny", "record_owner")
    ]

    page.locator("tr", has_text="Nowy klient").get_by_title("Edytuj rekord").click()
    page.get_by_label("Nazwa").fill("Nowy klient (B2B)")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Nowy klient (B2B)")
    assert "Nowy klient (B2B)" in templates_of(api, admin)


def test_a_template_item_given_to_an_unknown_user_is_refused_and_nothing_saved(admin_page, api, admin):
    page = admin_page
    open_from_menu(page, "Zadania", "Szablony zadań")
    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("Dla nikogo")
    add_an_item(page)
    item = page.locator("#items-0")
    item.locator("[name='items-0-title']").fill("Oferta")
    item.locator("select[name='items-0-type']").select_option(label="Telefon", force=True)  # under select2
    item.locator("select[name='items-0-responsible']").select_option(value="user", force=True)
    item.locator("[name='items-0-user_id']").fill("999999")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-danger")).to_be_visible()
    assert "Dla nikogo" not in templates_of(api, admin)


def test_an_admin_renames_a_task_type_and_switches_it_off(admin_page, api, admin):
    page = admin_page
    open_from_menu(page, "Zadania", "Typy zadań")
    page.locator("tr", has_text="Telefon").get_by_title("Edytuj rekord").click()
    page.get_by_label("Nazwa").fill("Telefon do klienta")
    page.get_by_label("Aktywny").uncheck()
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Telefon do klienta")
    types = {item["name"]: item for item in api.get("/task-types", admin).get_json()["items"]}
    assert types["Telefon do klienta"]["active"] is False and "Telefon" not in types
