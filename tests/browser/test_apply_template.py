"""A salesperson applies a task template to a company from its page, naming who gets the
items the template leaves to ask about (among the users they may give tasks to); a manager
gives them to a colleague; a colleague cannot add tasks to the company."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in


def new_client_template(api, admin) -> dict:
    types = {item["name"]: item["id"] for item in api.get("/task-types", admin).get_json()["items"]}
    response = api.post(
        "/task-templates",
        admin,
        json={
            "name": "Nowy klient",
            "object_types": ["company"],
            "items": [
                {"title": "Telefon powitalny", "type_id": types["Telefon"], "responsible": "record_owner"},
                {"title": "Umowa do podpisu", "type_id": types["E-mail"], "delay_days": 3, "responsible": "ask"},
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def company(api, user, name: str) -> dict:
    response = api.post("/companies", user, json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def tasks_on(api, user, firm_id: int) -> dict[str, int]:
    listed = api.get("/tasks", user, query_string={"object_type": "company", "object_id": firm_id}).get_json()
    return {task["title"]: task["responsible_id"] for task in listed["items"]}


def test_a_salesperson_applies_a_template_naming_who_gets_the_asked_items(page, api, admin, seller, other_seller):
    new_client_template(api, admin)
    firm = company(api, seller, "Agro-Tech")
    log_in(page, seller)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    page.get_by_label("Szablon zadań").select_option(label="Nowy klient (pyta o odpowiedzialnego)")
    page.get_by_role("button", name="Zastosuj szablon").click()
    expect(page.locator(".alert-danger")).to_contain_text("Szablon wymaga wskazania odpowiedzialnego")
    assert tasks_on(api, seller, firm["id"]) == {}, "nothing half-created"

    responsible = page.get_by_label("Odpowiedzialny za pozycje „pytaj przy użyciu”")
    expect(responsible.locator("option", has_text=other_seller["name"])).to_have_count(0)  # no tasks.assign
    page.get_by_label("Szablon zadań").select_option(label="Nowy klient (pyta o odpowiedzialnego)")
    responsible.select_option(label=seller["name"])
    page.get_by_role("button", name="Zastosuj szablon").click()
    expect(page.locator(".alert-success")).to_contain_text("Utworzono 2 zadania z szablonu Nowy klient.")
    expect(page.locator("body")).to_contain_text("Telefon powitalny")
    expect(page.locator("body")).to_contain_text("Umowa do podpisu")
    assert tasks_on(api, admin, firm["id"]) == {"Telefon powitalny": seller["id"], "Umowa do podpisu": seller["id"]}


def test_a_manager_gives_the_asked_items_to_a_salesperson(page, api, admin, manager, seller, other_seller):
    new_client_template(api, admin)
    firm = company(api, seller, "Stal-Mont")
    log_in(page, manager)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    page.get_by_label("Szablon zadań").select_option(label="Nowy klient (pyta o odpowiedzialnego)")
    page.get_by_label("Odpowiedzialny za pozycje „pytaj przy użyciu”").select_option(label=other_seller["name"])
    page.get_by_role("button", name="Zastosuj szablon").click()
    expect(page.locator(".alert-success")).to_contain_text("Utworzono 2 zadania z szablonu Nowy klient.")
    assert tasks_on(api, admin, firm["id"]) == {
        "Telefon powitalny": seller["id"],
        "Umowa do podpisu": other_seller["id"],
    }


def test_a_colleague_sees_no_template_form_on_someone_elses_company(page, api, admin, seller, other_seller):
    new_client_template(api, admin)
    firm = company(api, seller, "Cudza firma")
    log_in(page, other_seller)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    expect(page.locator("body")).to_contain_text("Cudza firma")  # colleagues read each other's companies
    expect(page.get_by_role("button", name="Zastosuj szablon")).to_have_count(0)
