"""A salesperson wins a deal in its admin form: the post-sale tasks appear, as with the
API's /win (the deal-closed hook fires once, whichever path closes the deal)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.support.post_sale import tasks_of_deal, thank_you_after_winning


def test_winning_a_deal_in_its_form_creates_the_post_sale_tasks(page, api, admin, seller, pipeline):
    thank_you_after_winning(api, admin, pipeline)
    deal = api.post("/deals", seller, json={"name": "Agro-Tech: ciągniki", "pipeline_id": pipeline["id"]}).get_json()

    log_in(page, seller)
    page.goto(f"/admin/deal/edit/?id={deal['id']}")
    page.get_by_label("Status").select_option(label="wygrana")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()

    assert tasks_of_deal(api, seller, deal["id"]) == ["Podziękowanie"]
    page.goto(f"/admin/deal/details/?id={deal['id']}")
    expect(page.locator("body")).to_contain_text("Podziękowanie")


def open_deal(api, seller, pipeline) -> dict:
    response = api.post("/deals", seller, json={"name": "Stal-Bud: hala", "pipeline_id": pipeline["id"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_salesperson_wins_a_deal_with_the_button_on_its_page(page, api, admin, seller, pipeline):
    thank_you_after_winning(api, admin, pipeline)
    deal = open_deal(api, seller, pipeline)
    log_in(page, seller)
    page.goto(f"/admin/deal/details/?id={deal['id']}")
    page.get_by_role("button", name="Wygrana", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Szansa sprzedaży wygrana.")
    expect(page.locator("body")).to_contain_text("Podziękowanie")
    expect(page.get_by_role("button", name="Wygrana", exact=True)).to_have_count(0)  # closed: no buttons
    assert api.get(f"/deals/{deal['id']}", seller).get_json()["status"] == "won"


def test_a_salesperson_loses_a_deal_saying_why(page, api, seller, pipeline):
    deal = open_deal(api, seller, pipeline)
    log_in(page, seller)
    page.goto(f"/admin/deal/details/?id={deal['id']}")
    page.get_by_label("Powód przegranej").fill("cena za wysoka")
    page.get_by_role("button", name="Przegrana", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Szansa sprzedaży przegrana.")
    closed = api.get(f"/deals/{deal['id']}", seller).get_json()
    assert (closed["status"], closed["lost_reason"]) == ("lost", "cena za wysoka")


def test_a_colleague_cannot_close_someone_elses_deal(page, api, seller, other_seller, pipeline):
    deal = open_deal(api, seller, pipeline)
    log_in(page, other_seller)
    page.goto(f"/admin/deal/details/?id={deal['id']}")
    expect(page.get_by_role("button", name="Wygrana", exact=True)).to_have_count(0)
    assert api.get(f"/deals/{deal['id']}", seller).get_json()["status"] == "open"
