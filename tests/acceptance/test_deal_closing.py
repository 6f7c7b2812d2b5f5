"""A deal is closed through one service: the API sets its status only through /win and
/lose (a PATCH or POST naming a status is refused), and the admin's form closes it the
same way (tests/browser/test_deals.py): the deal-closed hook fires exactly once."""

from __future__ import annotations

from tests.support.post_sale import tasks_of_deal, thank_you_after_winning


def test_the_api_closes_a_deal_only_through_win_and_lose(api, admin, seller, pipeline):
    thank_you_after_winning(api, admin, pipeline)
    deal = api.post("/deals", seller, json={"name": "Agro-Tech: ciągniki", "pipeline_id": pipeline["id"]}).get_json()
    refused = api.patch(f"/deals/{deal['id']}", seller, json={"status": "won"})
    assert refused.status_code == 422 and "status" in refused.get_json()["error"]["fields"]
    assert api.post(f"/deals/{deal['id']}/win", seller).status_code == 200
    assert api.post(f"/deals/{deal['id']}/win", seller).status_code == 409
    assert tasks_of_deal(api, seller, deal["id"]) == ["Podziękowanie"]
