"""Bad input gets a clear 4xx naming the problem, and changes nothing."""

import pytest


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture
def company(api, seller):
    return api.post("/companies", seller, json={"name": "Istniejąca", "city": "Lublin"}).get_json()


BAD_COMPANY_BODIES = [
    ({"name": 12}, 422, "name"),
    ({"name": ""}, 422, "name"),
    ({"name": "x" * 201}, 422, "name"),
    ({"name": "Nul\u0000byte"}, 422, "name"),
    ({"name": "OK", "owner_id": "1"}, 422, "owner_id"),
    ({"name": "OK", "owner_id": 2**40}, 422, "owner_id"),
    ({"name": "OK", "owner_id": 999999}, 422, "owner_id"),
    ({"name": "OK", "colour": "red"}, 422, "colour"),
    ({"name": "OK", "email": "no-at-sign"}, 422, "email"),
    ({}, 422, "name"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_COMPANY_BODIES)
def test_bad_company_bodies_are_refused_naming_the_field(api, seller, body, status, field):
    response = api.post("/companies", seller, json=body)
    assert response.status_code == status
    assert field in error_of(response)["fields"]
    assert api.get("/companies", seller).get_json()["total"] == 0


def test_malformed_json_and_non_json_bodies_are_400(api, seller, company):
    headers = {"Content-Type": "application/json"}
    assert error_of(api.post("/companies", seller, data="{oops", headers=headers))["code"] == "malformed"
    assert api.patch(f"/companies/{company['id']}", seller, data="null", headers=headers).status_code == 400
    assert (
        api.post(
            "/companies", seller, data="name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 400
    )
    assert api.post("/companies", seller, json=[{"name": "x"}]).status_code == 422
    assert api.get(f"/companies/{company['id']}", seller).get_json() == company


def test_unknown_ids_are_404(api, seller):
    for path in ("/companies/424242", "/persons/1", "/deals/2147483647", "/users/99999", "/pipelines/5"):
        response = api.get(path, seller)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
    assert api.get("/companies/99999999999999999999", seller).status_code == 404
    assert api.patch("/companies/424242", seller, json={"name": "x"}).status_code == 404
    assert api.delete("/companies/424242", seller).status_code == 404


def test_references_to_missing_records_are_422(api, seller, company):
    response = api.post("/persons", seller, json={"first_name": "A", "last_name": "B", "company_id": 777777})
    assert response.status_code == 422 and "company_id" in error_of(response)["fields"]
    response = api.patch(f"/companies/{company['id']}", seller, json={"owner_id": 777777})
    assert response.status_code == 422
    assert api.get(f"/companies/{company['id']}", seller).get_json()["owner_id"] == seller["id"]


def test_a_departed_user_cannot_become_an_owner(api, admin, seller, other_seller, company):
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    response = api.patch(f"/companies/{company['id']}", seller, json={"owner_id": other_seller["id"]})
    assert response.status_code == 422 and "departed" in error_of(response)["fields"]["owner_id"]


def test_required_fields_cannot_be_emptied(api, seller, company):
    response = api.patch(f"/companies/{company['id']}", seller, json={"name": None})
    assert response.status_code == 422 and "name" in error_of(response)["fields"]
    assert api.get(f"/companies/{company['id']}", seller).get_json()["name"] == "Istniejąca"


def test_a_plain_user_cannot_change_or_delete_another_users_record(api, seller, other_seller, manager, company):
    response = api.patch(f"/companies/{company['id']}", other_seller, json={"name": "Przejęta"})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert api.delete(f"/companies/{company['id']}", other_seller).status_code == 403
    assert api.get(f"/companies/{company['id']}", seller).get_json() == company
    assert api.patch(f"/companies/{company['id']}", manager, json={"city": "Zamość"}).status_code == 200, "managers may"


def test_unknown_filters_sorts_and_enum_values_are_422(api, seller, pipeline):
    for query in (
        "owner_id=abc",
        "owner_status=gone",
        "page=0",
        "per_page=0",
        "sort=password",
        "colour=red",
        "status=maybe",
    ):
        response = api.get(f"/deals?{query}", seller)
        assert response.status_code == 422, (query, response.get_json())
    response = api.post("/deals", seller, json={"name": "D", "stage": "Nie ma takiego"})
    assert response.status_code == 422 and "stage" in error_of(response)["fields"]
    response = api.post("/deals", seller, json={"name": "D", "value": "NaN"})
    assert response.status_code == 422
    response = api.post("/deals", seller, json={"name": "D", "status": "won"})
    assert response.status_code == 422, "deals are closed with /win and /lose, not by writing the status"
    assert api.get("/deals", seller).get_json()["total"] == 0


def test_a_duplicate_invoice_number_is_a_conflict(api, seller):
    assert api.post("/invoices", seller, json={"number": "FV/1"}).status_code == 201
    response = api.post("/invoices", seller, json={"number": "FV/1"})
    assert response.status_code == 409
    assert api.get("/invoices", seller).get_json()["total"] == 1


def test_a_huge_body_is_refused(api, seller):
    response = api.post(
        "/companies",
        seller,
        data="{" + '"name": "' + "x" * (3 * 1024 * 1024) + '"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert api.get("/companies", seller).get_json()["total"] == 0


def test_wrong_methods_answer_json_405(api, seller):
    response = api.request("PUT", "/companies", seller, json={})
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"
