"""Giving records the owner they already have is a no-op: the API reports them unchanged,
no period is written and the audit history (audit plugin) gains no entry."""

from __future__ import annotations

ASSIGNMENTS = "/ownership/assignments"


def company(api, user, name: str) -> dict:
    response = api.post("/companies", user, json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assign(api, user, **body):
    return api.post(ASSIGNMENTS, user, json={"object_type": "company", **body})


def owner_history(api, admin, firm_id: int) -> list:
    response = api.get(f"/audit?object_type=company&object_id={firm_id}&operation=owner_assigned", admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_giving_records_the_owner_they_already_have_changes_nothing_and_writes_no_history(
    api, admin, seller, other_seller
):
    mine, theirs = company(api, seller, "Moja"), company(api, other_seller, "Cudza")
    periods_before = api.get(f"{ASSIGNMENTS}?object_type=company", admin).get_json()["items"]
    history_before = owner_history(api, admin, mine["id"])

    response = assign(api, admin, object_ids=[mine["id"]], user_id=seller["id"], on_overlap="replace")
    assert response.status_code == 201, response.get_json()
    assert response.get_json() | {"object_type": None} == {
        "object_type": None,
        "matched": 1,
        "created": 0,
        "skipped": 0,
        "replaced": 0,
        "unchanged": 1,
    }
    assert api.get(f"{ASSIGNMENTS}?object_type=company", admin).get_json()["items"] == periods_before
    assert owner_history(api, admin, mine["id"]) == history_before

    both = assign(api, admin, object_ids=[mine["id"], theirs["id"]], user_id=seller["id"], on_overlap="replace")
    assert (both.get_json()["created"], both.get_json()["unchanged"]) == (1, 1)
    assert api.get(f"/companies/{theirs['id']}", admin).get_json()["owner_id"] == seller["id"]
