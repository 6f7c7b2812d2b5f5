"""A user sees, in Zadania → Udostępnianie zadań, whose tasks are shared with them and at
which level (Livespace: "Udostępnianie zadań")."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in


def test_a_user_sees_whose_tasks_are_shared_with_them_and_how(page, api, seller, other_seller, manager):
    for owner, level in ((seller, "read"), (manager, "free_busy")):
        response = api.post(
            "/task-sharing", owner, json={"owner_id": owner["id"], "grantee_id": other_seller["id"], "level": level}
        )
        assert response.status_code in (200, 201), response.get_json()

    log_in(page, other_seller)
    page.goto("/admin/")
    page.get_by_role("link", name="Zadania", exact=True).first.click()
    page.get_by_role("link", name="Udostępnianie zadań", exact=True).click()
    received = page.locator("#received-shares")
    expect(received).to_contain_text("Udostępnione Tobie")
    expect(received.locator("tr", has_text="Stefan Sprzedawca")).to_contain_text("tylko do odczytu")
    expect(received.locator("tr", has_text="Marta Manager")).to_contain_text("wolny/zajęty")


def test_a_user_nobody_shares_with_is_told_so(page, seller):
    log_in(page, seller)
    page.goto("/admin/task_sharing/")
    expect(page.locator("#received-shares")).to_contain_text("Nikt nie udostępnia Ci swoich zadań.")
