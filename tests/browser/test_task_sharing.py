"""A colleague looks at shared tasks in the panel: a free/busy row shows when the owner is
busy and offers nothing to open, a read-only row only its details, a full one everything."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out


def meeting(api, owner) -> dict:
    types = {item["name"]: item["id"] for item in api.get("/task-types", owner).get_json()["items"]}
    response = api.post(
        "/tasks",
        owner,
        json={
            "title": "Spotkanie z zarządem ACME",
            "type_id": types["Spotkanie"],
            "start": "2030-03-04T09:00:00Z",
            "end": "2030-03-04T10:30:00Z",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize(
    ("level", "icons"),
    [("free_busy", set()), ("read", {"view"}), ("full", {"view", "edit", "delete"})],
)
def test_a_colleague_sees_only_the_icons_their_level_allows(page, api, seller, other_seller, level, icons):
    meeting(api, seller)
    shared = api.post(
        "/task-sharing", seller, json={"owner_id": seller["id"], "grantee_id": other_seller["id"], "level": level}
    )
    assert shared.status_code in (200, 201), shared.get_json()

    log_in(page, other_seller)
    page.goto("/admin/task/")
    row = page.locator("table.model-list tbody tr").first
    expect(row).to_contain_text("4.03.2030")
    links = row.locator("td.list-buttons-column a, td.list-buttons-column form button[title]")
    shown = set()
    for index in range(links.count()):
        target = (links.nth(index).get_attribute("href") or "") + (links.nth(index).get_attribute("title") or "")
        shown |= {
            name for name, marker in (("view", "/details/"), ("edit", "/edit/"), ("delete", "Usuń")) if marker in target
        }
    assert shown == icons


@pytest.mark.parametrize(
    ("level_label", "colleague_sees_title"),
    [("wolny/zajęty", False), ("tylko do odczytu", True), ("pełny dostęp", True)],
    ids=["free_busy", "read", "full"],
)
def test_a_salesperson_shares_tasks_in_the_panel_and_the_colleague_sees_them(
    page, api, seller, other_seller, level_label, colleague_sees_title
):
    meeting(api, seller)
    log_in(page, seller)
    page.goto("/admin/task_sharing/")
    page.get_by_role("link", name="Tworzenie").first.click()
    page.wait_for_load_state("load")
    # the selects are under select2 (its search box has their label too): by id
    page.locator("select#grantee").select_option(label=other_seller["name"], force=True)
    page.locator("select#level").select_option(label=level_label, force=True)
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator("table.model-list")).to_contain_text(other_seller["name"])
    expect(page.locator("table.model-list")).to_contain_text(level_label)

    log_out(page)
    log_in(page, other_seller)
    page.goto("/admin/task/")
    rows = page.locator("table.model-list tbody")
    expect(rows).to_contain_text("4.03.2030")
    if colleague_sees_title:
        expect(rows).to_contain_text("Spotkanie z zarządem ACME")
    else:
        expect(rows).not_to_contain_text("Spotkanie z zarządem ACME")
