"""Fields a plugin adds to another plugin's record type and stores itself (issue 19,
``opiekun_record_fields`` with ``expression`` and ``save``): the tests' ``visits`` plugin
adds ``visit_every_days`` to companies, kept in its own ``visit_plans`` table.

A salesperson filters the companies by it and sets it in the API and in the company's
form, exactly like a field of the company; bad values are a 422 (a form error in the
panel) and save nothing, and someone who may not change the company cannot set it."""

from __future__ import annotations

import html
import json
import re

import pytest

from opiekun.testing.apps import build_app, close_app
from opiekun.testing.clients import ApiClient, logged_in
from tests.offboarding.transfer_helpers import created
from tests.support import visits_plugin
from tests.support.statements import statements_sent

FIELD = "visit_every_days"


@pytest.fixture(scope="module")
def visits_app(tmp_path_factory, fresh_database):
    app = build_app(tmp_path_factory.mktemp("added"), fresh_database.url(), extra_plugins=[visits_plugin])
    yield app
    close_app(app)


@pytest.fixture(scope="module")
def people(visits_app):
    api = ApiClient(visits_app)
    return {
        "api": api,
        "admin": api.create_user("admin@firma.example", role="admin", name="Ada Admin"),
        "seller": api.create_user("seller@firma.example", name="Stefan Sprzedawca"),
        "colleague": api.create_user("colleague@firma.example", name="Olga Inna"),
    }


def company(people, name: str, user: str = "seller", **fields) -> dict:
    return created(people["api"].post("/companies", people[user], json={"name": name, **fields}))


def listed(people, user: str = "seller", **query) -> dict[str, int | None]:
    response = people["api"].get("/companies", people[user], query_string={"per_page": 500, **query})
    assert response.status_code == 200, response.get_json()
    return {item["name"]: item[FIELD] for item in response.get_json()["items"]}


def error_fields(response) -> dict:
    return response.get_json()["error"]["fields"]


def test_the_field_is_set_in_the_api_and_filters_the_list(people):
    api, seller = people["api"], people["seller"]
    weekly = company(people, "Co tydzień", **{FIELD: 7})
    monthly = company(people, "Co miesiąc", **{FIELD: 30})
    company(people, "Bez planu")
    assert weekly[FIELD] == 7, "the answer carries what was stored"

    assert api.patch(f"/companies/{monthly['id']}", seller, json={FIELD: 31}).get_json()[FIELD] == 31
    mine = {name: value for name, value in listed(people).items() if name.startswith(("Co ", "Bez"))}
    assert mine == {"Co tydzień": 7, "Co miesiąc": 31, "Bez planu": None}

    assert set(listed(people, **{FIELD: 7})) == {"Co tydzień"}
    assert set(listed(people, **{f"{FIELD}_min": 10})) == {"Co miesiąc"}
    assert set(listed(people, **{f"{FIELD}_max": 31, "q": "Co "})) == {"Co tydzień", "Co miesiąc"}
    assert set(listed(people, **{f"{FIELD}_min": 8, f"{FIELD}_max": 30})) == set()
    assert listed(people, **{FIELD: 2**40, f"{FIELD}_min": 2**53}) == {}, "beyond a database integer: no match, no 500"

    assert api.patch(f"/companies/{weekly['id']}", seller, json={FIELD: None}).get_json()[FIELD] is None
    assert "Co tydzień" not in listed(people, **{f"{FIELD}_max": 400})


def test_a_page_of_the_list_reads_the_field_with_its_companies(visits_app, people):
    company(people, "Z planem", **{FIELD: 14})
    with statements_sent(visits_app) as sent:
        assert listed(people)["Z planem"] == 14
    reading_companies = [statement for statement in sent if "FROM companies" in statement]
    assert len(reading_companies) == 1, "the field's values come with the page, not in a query of their own"
    assert "visit_plans" in reading_companies[0] and "LIMIT" in reading_companies[0]


def test_the_openapi_document_describes_the_field_and_its_filters(people):
    document = people["api"].get("/openapi.json", None).get_json()
    parameters = {parameter["name"] for parameter in document["paths"]["/api/v1/companies"]["get"]["parameters"]}
    assert {FIELD, f"{FIELD}_min", f"{FIELD}_max"} <= parameters
    schemas = document["components"]["schemas"]
    bodies = [
        name
        for name, schema in schemas.items()
        if name.startswith(("CompanyCreate", "CompanyUpdate")) and FIELD in schema.get("properties", {})
    ]
    assert len(bodies) == 2, bodies


@pytest.mark.parametrize(
    "query",
    [
        {f"{FIELD}_min": "abc"},
        {f"{FIELD}_max": str(10**20)},
        {FIELD: "7.5"},
        {f"{FIELD}_between": "1"},
    ],
)
def test_bad_filters_are_a_422_naming_the_parameter(people, query):
    response = people["api"].get("/companies", people["seller"], query_string=query)
    assert response.status_code == 422, response.get_json()
    assert set(error_fields(response)) == set(query), error_fields(response)


@pytest.mark.parametrize(
    "value, problem",
    [(0, "1 to 365"), (366, "1 to 365"), ("co tydzień", None), (10**20, None), (True, None)],
)
def test_bad_values_are_a_422_and_save_nothing(people, value, problem):
    api, seller = people["api"], people["seller"]
    firm = company(people, f"Stała {value}", **{FIELD: 14})
    response = api.patch(f"/companies/{firm['id']}", seller, json={"name": "Zmieniona", FIELD: value})
    assert response.status_code == 422, response.get_json()
    assert FIELD in error_fields(response)
    if problem:
        assert problem in error_fields(response)[FIELD]
    again = api.get(f"/companies/{firm['id']}", seller).get_json()
    assert (again["name"], again[FIELD]) == (f"Stała {value}", 14), "nothing half-saved"

    before = api.get("/companies", seller, query_string={"q": "Nowa z planem"}).get_json()["total"]
    assert api.post("/companies", seller, json={"name": "Nowa z planem", FIELD: value}).status_code == 422
    assert api.get("/companies", seller, query_string={"q": "Nowa z planem"}).get_json()["total"] == before


def test_someone_who_may_not_change_the_company_cannot_set_its_field(people):
    api = people["api"]
    theirs = company(people, "Cudza firma", user="colleague", **{FIELD: 10})
    response = api.patch(f"/companies/{theirs['id']}", people["seller"], json={FIELD: 20})
    assert response.status_code == 403
    assert api.get(f"/companies/{theirs['id']}", people["colleague"]).get_json()[FIELD] == 10


def test_bulk_owner_changes_select_by_the_field_as_the_list_does(people):
    """Ownership's "every record matching the filter" reads the list's filters, added ones included."""
    api, admin, seller = people["api"], people["admin"], people["colleague"]
    often = company(people, "Często odwiedzana", user="admin", **{FIELD: 3})
    rarely = company(people, "Rzadko odwiedzana", user="admin", **{FIELD: 300})
    response = api.post(
        "/ownership/assignments",
        admin,
        json={
            "object_type": "company",
            "filter": {f"{FIELD}_max": 5, "q": "odwiedzana"},
            "user_id": seller["id"],
            "on_overlap": "replace",
        },
    )
    assert response.status_code in (200, 201, 202), response.get_json()
    owners = {firm["id"]: api.get(f"/companies/{firm['id']}", admin).get_json()["owner_id"] for firm in (often, rarely)}
    assert owners == {often["id"]: seller["id"], rarely["id"]: admin["id"]}
    bad = api.post(
        "/ownership/assignments",
        admin,
        json={"object_type": "company", "filter": {f"{FIELD}_max": "x"}, "user_id": seller["id"]},
    )
    assert bad.status_code == 422 and f"filter.{FIELD}_max" in error_fields(bad)


def filter_args(browser, list_url: str, label: str) -> list[str]:
    """The URL arguments of the operations of the list filter shown as ``label``."""
    page = browser.get(list_url).get_data(as_text=True)
    groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1)))
    return [operation["arg"] for operation in groups[label]]


def rows(browser, list_url: str) -> list[str]:
    """The names of the companies a list page shows (its rows' name cells)."""
    return re.findall(r'<td class="col-name">\s*(.*?)\s*</td>', browser.text(list_url), re.S)


def test_the_panel_filters_by_the_field_and_sets_it_in_the_company_form(visits_app, people):
    api, seller = people["api"], people["seller"]
    firm = company(people, "Formularzowa", **{FIELD: 21})
    company(people, "Formularzowa bez planu")
    browser = logged_in(visits_app, seller)

    form = browser.text(f"/admin/company/edit/?id={firm['id']}")
    assert "Wizyty co (dni)" in form
    assert re.search(rf'name="{FIELD}"[^>]*value="21"', form), "the form shows the stored value"

    saved = browser.submit(
        f"/admin/company/edit/?id={firm['id']}",
        {"name": "Formularzowa", FIELD: "45"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert api.get(f"/companies/{firm['id']}", seller).get_json()[FIELD] == 45

    refused = browser.submit(
        f"/admin/company/edit/?id={firm['id']}", {"name": "Formularzowa zmieniona", FIELD: "400"}, follow_redirects=True
    )
    assert "must be 1 to 365 days" in html.unescape(refused.get_data(as_text=True))
    assert api.get(f"/companies/{firm['id']}", seller).get_json()["name"] == "Formularzowa", "nothing saved"
    not_a_number = browser.submit(
        f"/admin/company/edit/?id={firm['id']}", {"name": "Formularzowa", FIELD: "dużo"}, follow_redirects=True
    )
    assert api.get(f"/companies/{firm['id']}", seller).get_json()[FIELD] == 45
    assert "Formularzowa" in not_a_number.get_data(as_text=True)

    new = browser.submit("/admin/company/new/", {"name": "Nowa z formularza", FIELD: "9"}, follow_redirects=True)
    assert new.status_code == 200
    assert listed(people, q="Nowa z formularza") == {"Nowa z formularza": 9}

    equal, _not_equal, greater, smaller = filter_args(browser, "/admin/company/", "Wizyty co (dni)")[:4]
    assert rows(browser, f"/admin/company/?flt0_{greater}=40&search=Formularzowa") == ["Formularzowa"]
    assert rows(browser, f"/admin/company/?flt0_{smaller}=40&search=Formularzowa") == []
    assert rows(browser, f"/admin/company/?flt0_{equal}=9") == ["Nowa z formularza"]
    assert "Lista jest pusta" in browser.text(f"/admin/company/?flt0_{smaller}=40&search=Formularzowa")
