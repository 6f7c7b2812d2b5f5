"""A partner's plugin (``opiekun-contracts``, installed from ``examples/``) adds contracts,
and a sales team works with them over the API exactly as with the core's records."""

import html
import re

import pytest

from opiekun.extensions import db
from opiekun.models import Role
from opiekun.testing.apps import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture
def company(api, seller) -> dict:
    return api.post("/companies", seller, json={"name": "Agrotech sp. z o.o."}).get_json()


@pytest.fixture
def contract(api, seller, company) -> dict:
    response = api.post(
        "/contracts",
        seller,
        json={
            "name": "Serwis 2026",
            "company_id": company["id"],
            "value": "12000.50",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def all_contracts(api, user) -> list[dict]:
    response = api.get("/contracts?per_page=500", user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_the_plugin_is_listed_with_its_version_and_hooks(api, seller):
    plugins = api.get("/plugins", seller).get_json()
    [contracts] = [plugin for plugin in plugins["items"] if plugin["name"] == "contracts"]
    assert contracts["version"] == "1.0.0" and contracts["depends"] == []
    assert {
        "opiekun_models",
        "opiekun_migrations_dir",
        "opiekun_record_types",
        "opiekun_validate_record",
        "opiekun_record_access",
        "opiekun_permissions",
        "opiekun_jobs",
        "opiekun_schedules",
        "opiekun_cli_commands",
        "opiekun_demo_data",
    } <= set(contracts["hooks"])


def test_the_openapi_document_describes_the_contract_routes(api):
    document = api.get("/openapi.json", None).get_json()
    paths = {
        path: set(operations) for path, operations in document["paths"].items() if path.startswith("/api/v1/contracts")
    }
    assert paths == {"/api/v1/contracts": {"get", "post"}, "/api/v1/contracts/{record_id}": {"get", "patch", "delete"}}


def test_a_seller_creates_reads_changes_and_deletes_a_contract(api, seller, company):
    created = api.post(
        "/contracts",
        seller,
        json={
            "name": "Licencje roczne",
            "company_id": company["id"],
            "value": "12000.50",
            "start_date": "2026-01-01",
        },
    )
    assert created.status_code == 201, created.get_json()
    contract = created.get_json()
    assert contract["owner_id"] == seller["id"] and contract["created_by_id"] == seller["id"]
    assert (contract["status"], contract["value"], contract["end_date"]) == ("active", "12000.50", None)

    assert api.get(f"/contracts/{contract['id']}", seller).get_json() == contract
    assert [item["id"] for item in all_contracts(api, seller)] == [contract["id"]]

    changed = api.patch(f"/contracts/{contract['id']}", seller, json={"end_date": "2026-06-30", "status": "ended"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["end_date"], changed.get_json()["status"]) == ("2026-06-30", "ended")
    assert api.get(f"/contracts?status=ended&company_id={company['id']}", seller).get_json()["total"] == 1
    assert api.get("/contracts?status=active", seller).get_json()["total"] == 0

    assert api.delete(f"/contracts/{contract['id']}", seller).status_code == 204
    assert api.get(f"/contracts/{contract['id']}", seller).status_code == 404


def test_owner_filters_find_contracts_without_owner_and_of_departed_users(api, admin, seller, other_seller, company):
    def create(user, name, **extra):
        body = {"name": name, "company_id": company["id"], "start_date": "2026-02-01", **extra}
        response = api.post("/contracts", user, json=body)
        assert response.status_code == 201, response.get_json()

    create(seller, "Moja umowa")
    create(seller, "Umowa bez opiekuna", owner_id=None)
    create(other_seller, "Umowa Olgi")
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200

    def names(query):
        response = api.get(f"/contracts?{query}", admin)
        assert response.status_code == 200, response.get_json()
        return {item["name"] for item in response.get_json()["items"]}

    assert names(f"owner_id={seller['id']}") == {"Moja umowa"}
    assert names("owner_id=none") == {"Umowa bez opiekuna"}
    assert names("owner_status=departed") == {"Umowa Olgi"}
    assert names("q=opiekuna") == {"Umowa bez opiekuna"}


BAD_CREATE_BODIES = [
    ({"end_date": "2025-12-31"}, "end_date"),  # ends before it starts
    ({"company_id": 777777}, "company_id"),  # no such company
    ({"company_id": "1"}, "company_id"),  # an id is a number, not text
    ({"value": "a lot"}, "value"),
    ({"value": "1.234"}, "value"),  # money has two decimal places
    ({"start_date": "31.12.2026"}, "start_date"),
    ({"status": "signed"}, "status"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"owner_id": 777777}, "owner_id"),
    ({"colour": "red"}, "colour"),  # unknown fields are refused
]


@pytest.mark.parametrize(("change", "field"), BAD_CREATE_BODIES)
def test_a_bad_contract_is_refused_naming_the_field_and_nothing_is_saved(api, seller, contract, change, field):
    body = {"name": "Nowa umowa", "company_id": contract["company_id"], "start_date": "2026-01-01", **change}
    response = api.post("/contracts", seller, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]
    assert all_contracts(api, seller) == [contract]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2025-01-01"}, "end_date"),
        ({"start_date": "2027-01-01"}, "end_date"),  # the other side of the same rule
        ({"start_date": None}, "start_date"),
        ({"company_id": 777777}, "company_id"),
        ({"value": True}, "value"),
    ],
)
def test_a_bad_change_is_refused_and_the_contract_stays_as_it_was(api, seller, contract, change, field):
    response = api.patch(f"/contracts/{contract['id']}", seller, json=change)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["fields"]
    assert api.get(f"/contracts/{contract['id']}", seller).get_json() == contract


def test_unknown_contracts_are_404(api, seller, contract):
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(
            "/contracts/424242", seller, **({"json": {"name": "x"}} if method == "patch" else {})
        )
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", method
    assert all_contracts(api, seller) == [contract]


def test_a_plain_user_cannot_change_or_delete_another_users_contract(api, other_seller, seller, contract):
    assert api.get(f"/contracts/{contract['id']}", other_seller).status_code == 200
    refused = api.patch(f"/contracts/{contract['id']}", other_seller, json={"value": "1.00"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert api.delete(f"/contracts/{contract['id']}", other_seller).status_code == 403
    assert api.get(f"/contracts/{contract['id']}", seller).get_json() == contract


def test_managers_and_approvers_may_change_any_contract(api, app, manager, contract):
    assert api.patch(f"/contracts/{contract['id']}", manager, json={"value": "13000.00"}).status_code == 200
    with app.app_context():  # a custom role holding only the plugin's permission
        db.session.add(Role(name="contract_approver", label="Contract approver", permissions=["contracts.approve"]))
        db.session.commit()
    approver = api.create_user("approver@firma.example", role="contract_approver")
    changed = api.patch(f"/contracts/{contract['id']}", approver, json={"value": "14000.00"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["value"] == "14000.00"
    assert api.delete(f"/contracts/{contract['id']}", approver).status_code == 403, "approve lets change, not delete"


# --- the admin panel ----------------------------------------------------------------------


def submit_form(http, url: str, data: dict, **kwargs):
    """POST ``data`` as the form on ``url`` would, with the page's CSRF token."""
    token = CSRF_FIELD.search(http.get(url).get_data(as_text=True)).group(1)
    return http.post(url, data={"csrf_token": token, **data}, **kwargs)


def test_in_the_admin_a_seller_lists_and_adds_contracts_and_the_date_rule_holds(app, api, seller, company, contract):
    http = app.test_client()
    assert submit_form(http, "/login", {"email": seller["email"], "password": PASSWORD}).status_code == 302
    listing = html.unescape(http.get("/admin/contract/").get_data(as_text=True))
    assert "Serwis 2026" in listing and company["name"] in listing

    form = {
        "name": "Umowa z formularza",
        "company": str(company["id"]),
        "value": "100.00",
        "start_date": "2026-02-01",
        "end_date": "2026-01-31",
        "status": "active",
        "owner": str(seller["id"]),
    }
    refused = submit_form(http, "/admin/contract/new/", form, follow_redirects=True)
    assert "must not be before start_date" in html.unescape(refused.get_data(as_text=True))
    assert [item["name"] for item in all_contracts(api, seller)] == ["Serwis 2026"]

    assert submit_form(http, "/admin/contract/new/", {**form, "end_date": "2027-01-31"}).status_code == 302
    added = [item for item in all_contracts(api, seller) if item["name"] == "Umowa z formularza"]
    assert [(item["owner_id"], item["company_id"], item["end_date"]) for item in added] == [
        (seller["id"], company["id"], "2027-01-31")
    ]


# --- the delete hook: a partner's rule about deleting core records ---------------------------


def test_a_company_with_an_active_contract_is_not_deleted_and_says_why(api, admin, company, contract):
    """The example plugin refuses through ``opiekun_record_deleting``: a 409 with its own
    message, nothing deleted; once the contract has ended the company goes, and the
    contract stays without it."""
    refused = api.delete(f"/companies/{company['id']}", admin)
    assert refused.status_code == 409
    assert error_of(refused)["message"] == "Agrotech sp. z o.o. has 1 active contract: end it first"
    assert api.get(f"/companies/{company['id']}", admin).status_code == 200
    assert api.get(f"/contracts/{contract['id']}", admin).get_json()["company_id"] == company["id"]

    assert api.patch(f"/contracts/{contract['id']}", admin, json={"status": "ended"}).status_code == 200
    assert api.delete(f"/companies/{company['id']}", admin).status_code == 204
    assert api.get(f"/contracts/{contract['id']}", admin).get_json()["company_id"] is None


def test_the_panel_shows_the_plugins_refusal_in_polish(app, api, admin, company, contract):
    from opiekun.testing.clients import logged_in

    browser = logged_in(app, admin)
    page = browser.submit(
        "/admin/company/delete/", {"id": str(company["id"])}, form_url="/admin/company/", follow_redirects=True
    )
    assert "Agrotech sp. z o.o. ma 1 aktywną umowę: najpierw ją zakończ" in html.unescape(page.get_data(as_text=True))
    assert api.get(f"/companies/{company['id']}", admin).status_code == 200


# --- fields a plugin adds to a core record type ------------------------------------------------


def test_a_company_shows_its_active_contracts_in_the_api_and_the_panel(app, api, admin, company, contract):
    """The example plugin adds ``active_contracts`` to companies (``opiekun_record_fields``):
    in the API's answers and schema, and as a column of the companies' list — declared,
    not patched into the core."""
    from opiekun.testing import logged_in

    other = api.post("/companies", admin, json={"name": "Bez umów"}).get_json()
    assert api.get(f"/companies/{company['id']}", admin).get_json()["active_contracts"] == 1
    listed = {item["id"]: item["active_contracts"] for item in api.get("/companies", admin).get_json()["items"]}
    assert listed == {company["id"]: 1, other["id"]: 0}
    schema = api.get("/openapi.json", None).get_json()["components"]["schemas"]
    assert any("active_contracts" in body.get("properties", {}) for name, body in schema.items() if "Company" in name)

    page = " ".join(logged_in(app, admin).text("/admin/company/").split())
    assert "Aktywne umowy" in page
    with_contracts = api.get("/companies", admin, query_string={"active_contracts_min": 1}).get_json()["items"]
    assert [item["id"] for item in with_contracts] == [company["id"]], "filtered by the field"
    equal = logged_in(app, admin).filter_arg("/admin/company/", "Aktywne umowy")
    without = logged_in(app, admin).text(f"/admin/company/?flt0_{equal}=0")
    assert "Bez umów" in without and "Agrotech" not in without, "the panel's filter"
    refused = api.patch(f"/companies/{company['id']}", admin, json={"active_contracts": 5})
    assert refused.status_code == 422 and "active_contracts" in refused.get_json()["error"]["fields"], "read-only"
    assert api.patch(f"/contracts/{contract['id']}", admin, json={"status": "ended"}).status_code == 200
    assert api.get(f"/companies/{company['id']}", admin).get_json()["active_contracts"] == 0
