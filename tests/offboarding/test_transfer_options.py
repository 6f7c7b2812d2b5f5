"""Plugins declare their transfer switches (issue 19): offboarding lists, shows and accepts
whatever the enabled plugins offer and knows none of them by name; a switch no enabled
plugin offers — ownership's, when ownership is off — is a 422 and nothing starts."""

from __future__ import annotations

from opiekun.testing import ApiClient, build_app, close_app
from tests.offboarding.transfer_helpers import TRANSFERS, created, depart, transfer


def test_the_enabled_plugins_switches_are_listed_with_labels_and_defaults(api, admin):
    listed = created(api.get("/offboarding/options", admin))["items"]
    assert [(item["name"], item["default"]) for item in listed] == [
        ("promote_deputies", False),
        ("deputies_stay", True),
    ]
    assert listed[0]["label"] == "Promote deputies", "the API speaks English"
    assert listed[1]["description"] == "Other users' deputy periods on the moved records go on"


def test_a_switch_nobody_offers_is_refused_naming_it_and_nothing_starts(api, admin, seller, other_seller):
    created(api.post("/companies", seller, json={"name": "Agro-Tech"}))
    depart(api, admin, seller)
    refused = api.post(
        TRANSFERS,
        admin,
        json={"from_user_id": seller["id"], "to_user_id": other_seller["id"], "options": {"nope": True}},
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"options.nope": "no enabled plugin offers this option"}
    assert created(api.get(TRANSFERS, admin))["total"] == 0
    state = transfer(
        api,
        admin,
        {"from_user_id": seller["id"], "to_user_id": other_seller["id"], "options": {"deputies_stay": False}},
    )
    assert state["status"] == "done"
    assert state["options"]["deputies_stay"] is False and state["options"]["promote_deputies"] is False, (
        "defaults filled"
    )


def test_ownerships_switches_are_refused_while_ownership_is_off(tmp_path, fresh_database):
    app = build_app(tmp_path, fresh_database.url(), plugins_disabled=("ownership",))
    api = ApiClient(app)
    admin = api.create_user("admin@firma.example", role="admin")
    seller = api.create_user("seller@firma.example")
    colleague = api.create_user("colleague@firma.example")
    created(api.post("/companies", seller, json={"name": "Agro-Tech"}))
    depart(api, admin, seller)
    assert created(api.get("/offboarding/options", admin))["items"] == []
    refused = api.post(
        TRANSFERS,
        admin,
        json={"from_user_id": seller["id"], "to_user_id": colleague["id"], "options": {"promote_deputies": True}},
    )
    assert refused.status_code == 422, "was 202: accepted and ignored"
    assert refused.get_json()["error"]["fields"] == {"options.promote_deputies": "no enabled plugin offers this option"}
    close_app(app)
