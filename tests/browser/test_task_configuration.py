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
    expect(page.locator(".alert-danger")).to_contain_text("Ta nazwa jest już zajęta")
    expect(page.get_by_label("Nazwa")).to_have_value("WIZYTA u klienta")  # the form is kept for correcting


def test_an_admin_creates_a_task_status(admin_page):
    page = admin_page
    open_from_menu(page, "Zadania", "Statusy zadań")
    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("Czeka na klienta")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table")).to_contain_text("Czeka na klienta")
