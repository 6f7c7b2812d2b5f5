"""A salesperson's own page, "Moje konto" (user menu): the calendar link of their tasks —
copied into a calendar app, replaced when it leaked — and their password."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from opiekun.testing.apps import PASSWORD
from tests.browser.conftest import log_in, log_out, open_user_menu

NEW_PASSWORD = "Zielona-Herbata-2031"


def feed(app, url: str):
    """GET the feed at ``url`` as a calendar app would (no session, only the link)."""
    parts = urlsplit(url)
    return app.test_client().get(f"{parts.path}?{parts.query}")


def open_my_account(page) -> None:
    open_user_menu(page)
    page.get_by_role("link", name="Moje konto").click()
    expect(page.locator("#account")).to_be_visible()


def test_a_salesperson_subscribes_to_the_calendar_link_and_replaces_it(page, app, api, seller, other_seller):
    types = {item["name"]: item["id"] for item in api.get("/task-types", seller).get_json()["items"]}
    task = api.post(
        "/tasks", seller, json={"title": "Oferta dla ACME", "type_id": types["Telefon"], "due_date": "2030-05-06"}
    )
    assert task.status_code == 201, task.get_json()
    log_in(page, seller)
    open_my_account(page)

    address = page.get_by_label("Adres kalendarza").input_value()
    answer = feed(app, address)
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    assert "Oferta dla ACME" in answer.get_data(as_text=True)
    page.get_by_role("button", name="Kopiuj").click()
    expect(page.get_by_text("Skopiowano.")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Utwórz nowy adres").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Nowy adres kalendarza jest gotowy; poprzedni już nie działa."
    )
    new_address = page.get_by_label("Adres kalendarza").input_value()
    assert new_address != address
    assert feed(app, address).status_code == 401, "the old link is revoked"
    assert feed(app, new_address).status_code == 200


def test_nobody_sees_another_users_calendar_link(page, admin, seller):
    log_in(page, admin)
    page.goto("/admin/users/")
    page.locator("tr", has_text=seller["email"]).get_by_title("Zobacz rekord").click()
    expect(page.locator("body")).to_contain_text(seller["name"])
    expect(page.get_by_label("Adres kalendarza")).to_have_count(0)


def test_a_salesperson_changes_their_password_knowing_the_current_one(page, api, seller):
    log_in(page, seller)
    open_my_account(page)
    page.get_by_label("Obecne hasło").fill("zupelnie-nie-to")
    page.get_by_label(re.compile("^Nowe hasło")).fill(NEW_PASSWORD)
    page.get_by_label("Powtórz nowe hasło").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Zmień hasło").click()
    expect(page.locator(".alert-danger")).to_contain_text("błędne hasło")

    page.get_by_label("Obecne hasło").fill(PASSWORD)
    page.get_by_label(re.compile("^Nowe hasło")).fill(NEW_PASSWORD)
    page.get_by_label("Powtórz nowe hasło").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Zmień hasło").click()
    expect(page.locator(".alert-success")).to_contain_text("Hasło zmienione.")
    page.goto("/admin/")
    expect(page.locator("#user-menu")).to_contain_text(seller["name"]), "this session goes on"

    log_out(page)
    log_in(page, seller, NEW_PASSWORD)
