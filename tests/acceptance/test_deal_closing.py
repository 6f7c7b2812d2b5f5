"""A deal is closed through one service: the API sets its status only through /win and
/lose (a PATCH or POST naming a status is refused), and the admin's form closes it the
same way (tests/browser/test_deals.py): the deal-closed hook fires exactly once."""

from __future__ import annotations

from opiekun.testing.clients import logged_in
from tests.support.post_sale import tasks_of_deal, thank_you_after_winning


def test_the_api_closes_a_deal_only_through_win_and_lose(api, admin, seller, pipeline):
    thank_you_after_winning(api, admin, pipeline)
    deal = api.post("/deals", seller, json={"name": "Agro-Tech: ciągniki", "pipeline_id": pipeline["id"]}).get_json()
    refused = api.patch(f"/deals/{deal['id']}", seller, json={"status": "won"})
    assert refused.status_code == 422 and "status" in refused.get_json()["error"]["fields"]
    assert api.post(f"/deals/{deal['id']}/win", seller).status_code == 200
    assert api.post(f"/deals/{deal['id']}/win", seller).status_code == 409
    assert tasks_of_deal(api, seller, deal["id"]) == ["Podziękowanie"]


def post_close(browser, deal_id, **form):
    token = browser.csrf_token("/admin/deal/")
    return browser.http.post("/admin/deal/close/", data={"csrf_token": token, "id": str(deal_id), **form})


def test_the_panels_close_refuses_others_deals_and_bad_input_changing_nothing(app, api, seller, other_seller, pipeline):
    deal = api.post("/deals", seller, json={"name": "Agro-Tech: ciągniki", "pipeline_id": pipeline["id"]}).get_json()
    colleague = logged_in(app, other_seller)
    refused = post_close(colleague, deal["id"], outcome="won")
    assert refused.status_code == 302
    assert "należy do innego użytkownika" in colleague.text(refused.headers["Location"])

    owner = logged_in(app, seller)
    assert post_close(owner, "abc", outcome="won").status_code == 404
    assert post_close(owner, 2**40, outcome="won").status_code == 404
    assert post_close(owner, deal["id"], outcome="draw").status_code == 404
    control = post_close(owner, deal["id"], outcome="lost", reason="cena\x01")
    assert "Znaki sterujące" in owner.text(control.headers["Location"])
    assert api.get(f"/deals/{deal['id']}", seller).get_json()["status"] == "open"
