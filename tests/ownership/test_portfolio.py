"""``GET /api/v1/ownership/portfolio`` ("records by owner"): one statement answers the user
check, the count, the page and the records' names, so these tests pin what it returns:
every record type's names, deputies and filters, pages and totals, and the errors."""

from __future__ import annotations

from sqlalchemy import text

from opiekun.extensions import db
from tests.ownership.support import day

PORTFOLIO = "/ownership/portfolio"


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def portfolio(api, user, as_user, **arguments) -> dict:
    query = "&".join(f"{name}={value}" for name, value in {"user_id": user["id"], **arguments}.items())
    response = api.get(f"{PORTFOLIO}?{query}", as_user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_record_type_is_named_deputies_included_newest_first(api, seller, other_seller, manager):
    firm = created(api.post("/companies", seller, json={"name": "Stal-Bud"}))
    person = created(api.post("/persons", seller, json={"first_name": "Anna", "last_name": "Nowak"}))
    contract = created(
        api.post("/contracts", seller, json={"name": "Serwis", "company_id": firm["id"], "start_date": day()})
    )
    theirs = created(api.post("/companies", other_seller, json={"name": "Cudza"}))
    created(
        api.post(
            "/ownership/assignments",
            manager,
            json={
                "object_type": "company",
                "object_ids": [theirs["id"]],
                "user_id": seller["id"],
                "kind": "deputy",
                "valid_from": day(-3),
                "valid_to": day(3),
                "access": "read",
            },
        )
    )

    answer = portfolio(api, seller, manager)
    assert answer["total"] == 4 and (answer["page"], answer["per_page"]) == (1, 50)
    assert [(item["object_type"], item["object_name"], item["kind"]) for item in answer["items"]] == [
        ("contract", "Serwis", "primary"),
        ("person", "Anna Nowak", "primary"),
        ("company", "Stal-Bud", "primary"),
        ("company", "Cudza", "deputy"),
    ], "newest first: valid_from, then the latest period"
    deputy = answer["items"][-1]
    assert (deputy["object_id"], deputy["valid_from"], deputy["valid_to"], deputy["access"]) == (
        theirs["id"],
        day(-3),
        day(3),
        "read",
    )
    assert {item["user_name"] for item in answer["items"]} == {seller["name"]}
    assert {item["user_id"] for item in answer["items"]} == {seller["id"]}
    assert all(item["id"] and item["created_at"] for item in answer["items"])
    assert contract["id"] in {item["object_id"] for item in answer["items"]}

    deputies = portfolio(api, seller, manager, kind="deputy")
    assert (deputies["total"], [item["object_name"] for item in deputies["items"]]) == (1, ["Cudza"])
    people = portfolio(api, seller, manager, object_type="person")
    assert (people["total"], [item["object_id"] for item in people["items"]]) == (1, [person["id"]])


def test_pages_keep_the_total_and_a_page_past_the_end_is_empty(api, seller, manager):
    for n in range(5):
        created(api.post("/companies", seller, json={"name": f"Firma {n}"}))
    first = portfolio(api, seller, manager, per_page=2)
    second = portfolio(api, seller, manager, per_page=2, page=2)
    last = portfolio(api, seller, manager, per_page=2, page=3)
    assert [first["total"], second["total"], last["total"]] == [5, 5, 5]
    names = [item["object_name"] for page in (first, second, last) for item in page["items"]]
    assert sorted(names) == [f"Firma {n}" for n in range(5)] and len(set(names)) == 5
    assert portfolio(api, seller, manager, per_page=2, page=4) == {
        "items": [],
        "total": 5,
        "page": 4,
        "per_page": 2,
        "total_is_estimate": False,
    }


def test_a_user_without_records_has_an_empty_portfolio(api, seller, other_seller):
    created(api.post("/companies", seller, json={"name": "Stal-Bud"}))
    assert portfolio(api, other_seller, seller) == {
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 50,
        "total_is_estimate": False,
    }
    assert portfolio(api, seller, seller, **{"from": day(-10), "to": day(-1)})["total"] == 0


def test_a_record_of_a_type_no_longer_registered_has_no_name(app, api, seller):
    created(api.post("/companies", seller, json={"name": "Stal-Bud"}))
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, access, created_at) "
                f"VALUES ('gone', 7, {seller['id']}, 'primary', 'sales', '{day(-1)}', 'write', CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
    items = portfolio(api, seller, seller)["items"]
    assert [(item["object_type"], item["object_name"]) for item in items] == [("company", "Stal-Bud"), ("gone", None)]


def test_an_unknown_user_is_a_404_before_any_other_problem(api, seller):
    assert api.get(f"{PORTFOLIO}?user_id=424242", seller).status_code == 404
    assert api.get(f"{PORTFOLIO}?user_id=424242&from={day()}&to={day(-1)}", seller).status_code == 404
    assert api.get(f"{PORTFOLIO}?user_id=424242&object_type=nope", seller).status_code == 404
    reversed_period = api.get(f"{PORTFOLIO}?user_id={seller['id']}&from={day()}&to={day(-1)}", seller)
    assert reversed_period.status_code == 422 and "valid_to" in reversed_period.get_json()["error"]["fields"]
    assert api.get(f"{PORTFOLIO}?user_id={seller['id']}&object_type=nope", seller).status_code == 422
