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
