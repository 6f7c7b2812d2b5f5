"""The start page from the seats of its users: a salesperson sees their day (tasks due,
overdue, their records) and opens the overdue tasks with one click; an admin sees what
needs the team's attention — records without an owner, the load per owner with the
departed marked, departed users who still own records — and goes to review and reassign."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from opiekun import local_time
from tests.browser.conftest import log_in


def add_task(api, user, title: str, due: dt.date) -> dict:
    types = {item["name"]: item["id"] for item in api.get("/task-types", user).get_json()["items"]}
    response = api.post("/tasks", user, json={"title": title, "type_id": types["Telefon"], "due_date": due.isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_salesperson_opens_their_overdue_tasks_from_the_start_page(page, api, seller):
    today = local_time.today()
    for name in ("Agro-Tech", "Bud-Mar", "Cer-Pol"):
        api.post("/companies", seller, json={"name": name})
    add_task(api, seller, "Telefon do Agro-Tech", today)
    add_task(api, seller, "Oferta dla Bud-Mar", today - dt.timedelta(days=4))
    log_in(page, seller)
    panel = page.locator("#panel-my-tasks")
    expect(panel.locator("[data-figure='Na dziś']")).to_contain_text("1")
    expect(panel).to_contain_text("Oferta dla Bud-Mar")
    expect(page.locator("#panel-my-records [data-figure='Firmy']")).to_contain_text("3")
    expect(page.locator("#home-team")).to_have_count(0)
    page.screenshot(path="test-results/screenshots/home_page_of_a_salesperson.png", full_page=True)
    panel.locator("[data-figure='Zaległe'] a").click()
    expect(page.locator("table.model-list tbody tr")).to_have_count(1)
    expect(page.locator("table.model-list")).to_contain_text("Oferta dla Bud-Mar")


def test_an_admin_goes_from_the_start_page_to_reassigning_a_departed_sellers_records(
    page, api, admin, manager, seller, other_seller
):
    today = local_time.today()
    for number in range(7):
        api.post("/companies", seller, json={"name": f"Firma Stefana {number}"})
    for number in range(4):
        api.post("/companies", other_seller, json={"name": f"Firma Olgi {number}"})
    for number in range(2):
        api.post("/companies", manager, json={"name": f"Firma Marty {number}"})
    api.post("/companies", admin, json={"name": "Niczyja sp. z o.o.", "owner_id": None})
    add_task(api, seller, "Zaległa oferta", today - dt.timedelta(days=2))
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200
    log_in(page, admin)
    expect(page.locator("#panel-unowned [data-figure='Firmy']")).to_contain_text("1")
    expect(page.locator("#panel-owner-load svg")).to_have_count(1)
    expect(page.locator("#panel-team-overdue")).to_contain_text("Stefan Sprzedawca")
    departed = page.locator("#panel-departed-with-records")
    expect(departed).to_contain_text("Olga Inna: przejrzyj i przekaż")
    expect(departed).to_contain_text("4 rekordy")
    page.screenshot(path="test-results/screenshots/home_page_of_an_admin.png", full_page=True)
    departed.get_by_role("link", name="Olga Inna: przejrzyj i przekaż").click()
    expect(page.locator("body")).to_contain_text("Olga Inna")
    expect(page).to_have_url(f"{page.url.split('/admin')[0]}/admin/offboarding/user/{other_seller['id']}/")
