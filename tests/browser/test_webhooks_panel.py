"""An admin sets up a webhook in the panel, in Polish (Administracja → Webhooki): a refused
address first, then the receiver; sees the secret, the delivery log, sends a delivery
again and pauses the endpoint. The receiver is a real HTTP server of the test."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from opiekun.plugins.webhooks.settings import WebhookSettings
from tests.support.webhook_receiver import receiving, signature_is_valid


@pytest.fixture
def receiver(app):
    before = app.config.get("WEBHOOKS")
    app.config["WEBHOOKS"] = WebhookSettings(allow_private_addresses=True, retry_delays=(0.05,))
    with receiving() as listening:
        yield listening
    from tests.webhooks.conftest import wait_until_quiet

    wait_until_quiet(app)
    app.config["WEBHOOKS"] = before


def test_an_admin_registers_an_endpoint_sees_its_deliveries_sends_one_again_and_pauses_it(
    admin_page, api, admin, receiver
):
    page = admin_page
    page.goto("/admin/")
    page.get_by_role("link", name="Administracja", exact=True).first.click()
    page.get_by_role("link", name="Webhooki", exact=True).click()
    page.get_by_role("link", name="Tworzenie").first.click()
    page.get_by_label("Nazwa").fill("System ERP")
    page.get_by_label("Adres (URL)").fill("ftp://erp.firma.example/zdarzenia")
    page.get_by_label("Typy rekordów (nic nie zaznaczone: wszystkie)").select_option(label="Firmy")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-danger")).to_contain_text("użyj adresu http:// lub https://")
    assert api.get("/webhooks", admin).get_json()["total"] == 0

    page.get_by_label("Adres (URL)").fill(receiver.url)
    page.get_by_role("button", name="Zapisz", exact=True).click()
    table = page.locator("table.model-list")
    expect(table).to_contain_text("System ERP")
    expect(table).to_contain_text("aktywny")
    expect(table).to_contain_text("Firmy")

    page.locator("a[title='Zobacz rekord']").first.click()
    secret = page.locator("td", has_text="whsec_").inner_text().strip()
    endpoint_id = api.get("/webhooks", admin).get_json()["items"][0]["id"]
    assert secret == api.get(f"/webhooks/{endpoint_id}", admin).get_json()["secret"]

    api.post("/companies", admin, json={"name": "Hurtownia Łączność"})
    (event,) = receiver.wait_for_events(1)
    assert event["record_name"] == "Hurtownia Łączność"
    assert signature_is_valid(secret, receiver.deliveries[0].headers["Opiekun-Signature"], receiver.deliveries[0].raw)

    page.get_by_role("link", name="Dostawy", exact=True).click()
    log = page.locator("table.model-list")
    expect(log).to_contain_text("dostarczona")
    expect(log).to_contain_text("System ERP")
    page.wait_for_load_state("load")
    page.locator("input.action-checkbox").first.check()
    page.get_by_text("Z wybranych").click()
    page.get_by_role("link", name="Wyślij ponownie").click()
    expect(page.locator(".alert-success")).to_contain_text("Ponownie wysłane dostawy: 1")
    receiver.wait_for_requests(2)
    assert receiver.deliveries[1].headers["Idempotency-Key"] == receiver.deliveries[0].headers["Idempotency-Key"]

    # the endpoint's link in the table: once the filter's select2 has started, its box is a
    # link named "System ERP" too, ahead of the table
    log.get_by_role("link", name="System ERP").first.click()
    page.get_by_role("button", name="Wstrzymaj").click()
    expect(page.locator(".alert-success")).to_contain_text("Webhook jest wstrzymany.")
    expect(page.locator("table")).to_contain_text("wstrzymany")
    assert api.get("/webhooks", admin).get_json()["items"][0]["status"] == "paused"
