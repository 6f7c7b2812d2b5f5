"""The contracts plugin tested from its users' seats with Opiekun's test kit
(``opiekun.testing``): installed with Opiekun, it is a pytest plugin, so these fixtures
need no conftest. Run ``pytest`` in this folder; set ``OPIEKUN_TEST_DATABASE_URL`` to a
PostgreSQL server to run the same tests there.

- ``opiekun_app``: the product with every installed plugin, this one included;
- ``opiekun_api``: the JSON API as an integration speaks it (tables emptied after each test);
- ``opiekun_admin``, ``opiekun_user``: an administrator and a salesperson;
- ``opiekun_browser(user)``: that person at the admin panel, logged in;
- ``opiekun_recorder``: what the change stream carried.
"""

from __future__ import annotations


def contract_body(company_id: int, **changes) -> dict:
    return {"name": "Serwis 2027", "company_id": company_id, "start_date": "2027-01-01", "value": "1200.00", **changes}


def test_a_salesperson_records_a_contract_and_the_history_hears_of_it(opiekun_api, opiekun_user, opiekun_recorder):
    company = opiekun_api.post("/companies", opiekun_user, json={"name": "Agro-Tech"}).get_json()
    response = opiekun_api.post("/contracts", opiekun_user, json=contract_body(company["id"]))
    assert response.status_code == 201, response.get_json()
    contract = response.get_json()
    assert (contract["owner_id"], contract["status"], contract["value"]) == (opiekun_user["id"], "active", "1200.00")

    [created] = opiekun_recorder.records("create", "contract")
    assert created.object_id == contract["id"]
    assert {change.field: change.new for change in created.changes}["name"] == "Serwis 2027"


def test_a_contract_ending_before_it_starts_is_refused_naming_the_field(opiekun_api, opiekun_user):
    company = opiekun_api.post("/companies", opiekun_user, json={"name": "Agro-Tech"}).get_json()
    refused = opiekun_api.post("/contracts", opiekun_user, json=contract_body(company["id"], end_date="2026-12-31"))
    assert refused.status_code == 422
    assert "end_date" in refused.get_json()["error"]["fields"]
    assert opiekun_api.get("/contracts", opiekun_user).get_json()["total"] == 0, "nothing saved"


def test_a_company_with_an_active_contract_is_not_deleted(opiekun_api, opiekun_admin):
    company = opiekun_api.post("/companies", opiekun_admin, json={"name": "Agro-Tech"}).get_json()
    opiekun_api.post("/contracts", opiekun_admin, json=contract_body(company["id"]))
    refused = opiekun_api.delete(f"/companies/{company['id']}", opiekun_admin)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "Agro-Tech has 1 active contract: end it first"


def test_an_admin_sees_the_contracts_in_the_polish_panel(opiekun_api, opiekun_admin, opiekun_browser):
    company = opiekun_api.post("/companies", opiekun_admin, json={"name": "Agro-Tech"}).get_json()
    opiekun_api.post("/contracts", opiekun_admin, json=contract_body(company["id"]))
    page = " ".join(opiekun_browser(opiekun_admin).text("/admin/contract/").split())  # any space as " "
    assert "Umowy" in page and "Serwis 2027" in page and "1 200,00 zł" in page and "aktywny" in page
