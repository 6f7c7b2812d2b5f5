"""Registering endpoints over the API: who may, what is refused (with a clear 4xx and
nothing saved), and what a secret, a pause and a delete do."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from opiekun.extensions import db
from opiekun.plugins.webhooks.models import WebhookEndpoint
from opiekun.plugins.webhooks.settings import WebhookSettings
from tests.webhooks.conftest import QUICK, register


def endpoint_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint))
        db.session.remove()
        return count


def test_only_holders_of_webhooks_manage_see_or_register_endpoints_and_learn_nothing_of_bodies(
    app, api, admin, seller, manager, receiver
):
    endpoint = register(api, admin, receiver)
    for user in (seller, manager):
        assert api.get("/webhooks", user).status_code == 403
        assert api.get(f"/webhooks/{endpoint['id']}", user).status_code == 403
        refused = api.post("/webhooks", user, json={"colour": "red"})
        assert refused.status_code == 403 and "colour" not in refused.get_data(as_text=True)
        assert api.patch(f"/webhooks/{endpoint['id']}", user, json={"url": "http://evil.example"}).status_code == 403
        assert api.post(f"/webhooks/{endpoint['id']}/secret", user).status_code == 403
        assert api.delete(f"/webhooks/{endpoint['id']}", user).status_code == 403
    assert api.get("/webhooks", None).status_code == 401
    assert api.get(f"/webhooks/{endpoint['id']}", admin).get_json()["url"] == receiver.url

    api.post("/roles", admin, json={"name": "integracje", "label": "Integracje", "permissions": ["webhooks.manage"]})
    api.patch(f"/users/{manager['id']}", admin, json={"role": "integracje"})
    api.tokens.clear()
    assert api.get("/webhooks", manager).get_json()["total"] == 1
    assert register(api, manager, receiver, name="Druga")["status"] == "active"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "ERP", "url": "ftp://firma.example/x"}, "url"),
        ({"name": "ERP", "url": "http://user:haslo@127.0.0.1/x"}, "url"),
        ({"name": "ERP", "url": "http://127.0.0.1/a b"}, "url"),
        ({"name": "ERP", "url": "http://127.0.0.1/\x07"}, "url"),
        ({"name": "ERP", "url": "http://" + "a" * 2100 + ".example/"}, "url"),
        ({"name": "ERP", "url": "http://[::1"}, "url"),
        ({"name": "ERP", "url": "http://nie-ma-takiego-hosta.invalid/"}, "url"),
        ({"name": "ERP", "url": "http://127.0.0.1/", "record_types": ["spaceship"]}, "record_types"),
        ({"name": "ERP", "url": "http://127.0.0.1/", "operations": ["drop table"]}, "operations"),
        ({"name": "  ", "url": "http://127.0.0.1/"}, "name"),
        ({"name": "x" * 201, "url": "http://127.0.0.1/"}, "name"),
        ({"name": "ERP\x00", "url": "http://127.0.0.1/"}, "name"),
        ({"name": 7, "url": "http://127.0.0.1/"}, "name"),
        ({"name": "ERP", "url": "http://127.0.0.1/", "record_types": "company"}, "record_types"),
        ({"name": "ERP", "url": "http://127.0.0.1/", "secret": "mine"}, "secret"),
    ],
)
def test_a_bad_endpoint_is_a_422_naming_the_field_and_nothing_is_saved(app, api, admin, webhook_settings, body, field):
    response = api.post("/webhooks", admin, json=body)

    assert response.status_code == 422, response.get_json()
    assert field in response.get_data(as_text=True)
    assert endpoint_count(app) == 0


def test_addresses_in_private_networks_are_refused_unless_the_deployment_allows_them(app, api, admin, webhook_settings):
    app.config["WEBHOOKS"] = WebhookSettings(**{**QUICK.__dict__, "allow_private_addresses": False})
    for url in (
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://10.1.2.3/",
        "http://169.254.169.254/",
        "http://[::1]/",
    ):
        response = api.post("/webhooks", admin, json={"name": "ERP", "url": url})
        assert response.status_code == 422, url
        assert "private network" in response.get_json()["error"]["fields"]["url"]
    assert endpoint_count(app) == 0


def test_a_change_of_an_endpoint_is_checked_as_its_registration_and_half_a_change_saves_nothing(
    app, api, admin, receiver
):
    endpoint = register(api, admin, receiver)
    path = f"/webhooks/{endpoint['id']}"

    refused = api.patch(path, admin, json={"name": "Nowa nazwa", "url": "gopher://x"})

    assert refused.status_code == 422
    assert api.get(path, admin).get_json()["name"] == "ERP"
    assert api.patch(path, admin, json={"status": "failing"}).status_code == 422  # only the system switches off
    changed = api.patch(path, admin, json={"name": "Nowa nazwa", "record_types": ["deal", "company"]}).get_json()
    assert (changed["name"], changed["record_types"]) == ("Nowa nazwa", ["company", "deal"])
    assert "secret" not in changed


def test_unknown_endpoints_and_other_endpoints_deliveries_are_404(api, admin, receiver):
    first = register(api, admin, receiver)
    second = register(api, admin, receiver, name="Druga")
    api.post("/companies", admin, json={"name": "Acme"})
    receiver.wait_for_events(2)
    theirs = api.get(f"/webhooks/{first['id']}/deliveries", admin).get_json()["items"]

    assert api.get("/webhooks/999999", admin).status_code == 404
    assert api.get(f"/webhooks/{2**40}", admin).status_code == 404
    assert api.patch("/webhooks/999999", admin, json={"name": "x"}).status_code == 404
    assert api.get("/webhooks/999999/deliveries", admin).status_code == 404
    assert api.post(f"/webhooks/{second['id']}/deliveries/{theirs[0]['id']}/redeliver", admin).status_code == 404
    assert api.post(f"/webhooks/{first['id']}/deliveries/999999/redeliver", admin).status_code == 404
    assert api.get("/webhooks?status=exploded", admin).status_code == 422
    assert api.get("/webhooks?per_page=501", admin).status_code == 422


def test_a_new_secret_signs_from_now_on_and_a_deleted_endpoint_gets_nothing_more(app, api, admin, receiver):
    from tests.support.webhook_receiver import signature_is_valid

    endpoint = register(api, admin, receiver)
    old_secret = endpoint["secret"]
    new_secret = api.post(f"/webhooks/{endpoint['id']}/secret", admin).get_json()["secret"]
    assert new_secret != old_secret and new_secret.startswith("whsec_") and len(new_secret) > 40

    api.post("/companies", admin, json={"name": "Po zmianie sekretu"})
    (delivery,) = receiver.wait_for_requests(1)
    assert signature_is_valid(new_secret, delivery.headers["Opiekun-Signature"], delivery.raw)
    assert not signature_is_valid(old_secret, delivery.headers["Opiekun-Signature"], delivery.raw)

    assert api.delete(f"/webhooks/{endpoint['id']}", admin).status_code == 204
    api.post("/companies", admin, json={"name": "Po usunięciu"})
    assert api.get("/webhooks", admin).get_json()["total"] == 0
    assert len(receiver.deliveries) == 1


def test_lists_page_and_filter_by_status(api, admin, receiver):
    for number in range(3):
        register(api, admin, receiver, name=f"Punkt {number}")
    paused = api.get("/webhooks", admin).get_json()["items"][1]
    api.patch(f"/webhooks/{paused['id']}", admin, json={"status": "paused"})

    page = api.get("/webhooks?per_page=2&page=2", admin).get_json()
    assert (page["total"], page["page"], page["per_page"], [item["name"] for item in page["items"]]) == (
        3,
        2,
        2,
        ["Punkt 2"],
    )
    assert [item["name"] for item in api.get("/webhooks?status=paused", admin).get_json()["items"]] == ["Punkt 1"]
    assert all("secret" not in item for item in page["items"])
