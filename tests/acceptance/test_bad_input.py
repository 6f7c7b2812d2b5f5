"""Bad input is a clear 4xx and changes nothing — never a 500: JSON nested too deep, NUL
and other control characters in the API and the admin, page numbers, ids, filter values
and link-search bounds beyond what the database holds. Run on SQLite and PostgreSQL (where
a NUL or an out-of-range number used to reach the database and fail there)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from opiekun.extensions import db
from opiekun.models import Company, Pipeline
from opiekun.testing.clients import logged_in

HUGE = "99999999999999999999"
DEEP_JSON = ("[" * 2000, '{"a":' * 2000, "[" * 2000 + "]" * 2000, '{"a":' * 2000 + "1" + "}" * 2000)


def companies_in(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Company))


# --- JSON nested too deep -------------------------------------------------------------------


@pytest.mark.parametrize("body", DEEP_JSON, ids=["lists", "objects", "closed-lists", "closed-objects"])
def test_deeply_nested_json_is_a_400_even_before_logging_in(api, body):
    response = api.http.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed"


def test_json_nested_deeper_than_the_limit_is_refused_on_every_json_endpoint(app, api, admin):
    """Core and plugin endpoints alike; a body nested within the limit still works."""
    nested, deep_list = {"a": 1}, ["x"]
    for _ in range(40):
        nested, deep_list = {"a": nested}, [deep_list]
    for path, body in (
        ("/companies", {"name": "Głęboka", "tax_id": nested}),
        ("/ownership/assignments", {"object_type": "company", "user_id": admin["id"], "filter": nested}),
        ("/tasks", {"title": deep_list}),
        ("/companies", "[" * 2000),
    ):
        data = body if isinstance(body, str) else None
        response = api.post(
            path, admin, json=None if data else body, data=data, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (path, response.status_code, response.get_json())
        assert response.get_json()["error"]["code"] == "malformed"
    assert companies_in(app) == 0
    assert api.post("/pipelines", admin, json={"name": "Płytka", "stages": [{"name": "Kontakt"}]}).status_code == 201


# --- control characters ---------------------------------------------------------------------


def test_the_api_refuses_control_characters_in_text_fields_of_the_core_and_plugins(app, api, admin):
    firm = api.post("/companies", admin, json={"name": "Firma"}).get_json()
    task_type = api.get("/task-types", admin).get_json()["items"][0]
    for method, path, body, field in (
        ("POST", "/companies", {"name": "ctl\u0001char"}, "name"),
        ("PATCH", f"/companies/{firm['id']}", {"city": "Gda\u001bńsk"}, "city"),
        ("POST", "/tasks", {"title": "zadanie\u0007", "type_id": task_type["id"]}, "title"),
        ("POST", "/contracts", {"name": "umo\u000bwa", "company_id": firm["id"], "start_date": "2026-01-01"}, "name"),
    ):
        response = api.request(method, path, admin, json=body)
        assert response.status_code == 422, (path, response.get_json())
        assert "control characters" in response.get_json()["error"]["fields"][field]
    assert api.get(f"/companies/{firm['id']}", admin).get_json()["city"] is None
    assert api.get("/tasks", admin).get_json()["total"] == 0 and companies_in(app) == 1
    # tab and line breaks are text
    assert (
        api.post(
            "/companies", admin, json={"name": "Dwie\tlinie", "address": "ul. Długa 1\r\n00-001 Gdańsk"}
        ).status_code
        == 201
    )


def test_admin_forms_refuse_control_characters_in_every_text_field(app, admin):
    browser = logged_in(app, admin)
    response = browser.submit("/admin/company/new/", {"name": "ctl\u0001char", "city": "Opole"})
    assert response.status_code == 200 and "Znaki sterujące są niedozwolone" in flashed_or_page(response)
    response = browser.submit(
        "/admin/pipelines/new/", {"name": "Lejek", "stages-0-name": "Etap\u0002", "stages-0-position": "1"}
    )
    assert response.status_code == 200 and "Znaki sterujące są niedozwolone" in flashed_or_page(response)
    assert companies_in(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pipeline)) == 0


def flashed_or_page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- NUL characters outside the API --------------------------------------------------------


def test_a_nul_character_anywhere_in_admin_input_is_a_400_and_saves_nothing(app, api, admin):
    firm = api.post("/companies", admin, json={"name": "Firma"}).get_json()
    browser = logged_in(app, admin)
    for url in (
        "/admin/company/?search=a%00b",
        "/admin/lead/ajax/lookup/?name=company_id&query=%00",
        "/admin/company/?flt0_0=%00",
        "/admin/company/details/?id=%00",
        "/admin/users/?search=%00",
        "/admin/task/on/%00/1/",
        "/admin/audit/?object_type=%00",
    ):
        assert browser.get(url).status_code == 400, url
    assert (
        browser.submit("/admin/company/new/", {"name": "a\u0000b"}, form_url="/admin/company/new/").status_code == 400
    )
    edit = f"/admin/company/edit/?id={firm['id']}"
    assert browser.submit(edit, {"name": "Firma", "city": "Opole\u0000"}).status_code == 400
    assert api.get(f"/companies/{firm['id']}", admin).get_json()["city"] is None and companies_in(app) == 1


def test_a_nul_character_in_the_login_form_is_a_400(app, admin):
    browser = logged_in(app, admin)
    browser.get("/logout")
    response = browser.submit("/login", {"email": admin["email"] + "\u0000", "password": "x\u0000"})
    assert response.status_code == 400


# --- numbers beyond what the database holds ------------------------------------------------


@pytest.mark.parametrize("view", ["company", "task", "users", "notifications", "offboarding/transfers", "contract"])
def test_a_page_beyond_any_list_shows_an_empty_page(app, api, admin, view):
    api.post("/companies", admin, json={"name": "Firma"})
    browser = logged_in(app, admin)
    for page in (HUGE, "-5", "1000001"):
        response = browser.get(f"/admin/{view}/?page={page}")
        assert response.status_code == 200, (view, page)
    assert browser.get(f"/admin/{view}/?page_size={HUGE}&sort=999&desc={HUGE}").status_code == 200


def test_record_ids_filter_values_and_lookup_bounds_beyond_the_database_are_refused(app, api, admin):
    firm = api.post("/companies", admin, json={"name": "Firma"}).get_json()
    browser = logged_in(app, admin)
    for page in ("details", "edit"):
        for record_id in (HUGE, "abc", "-1"):
            response = browser.get(f"/admin/company/{page}/?id={record_id}")
            assert response.status_code == 302, (page, record_id)  # "record does not exist", back to the list
    assert browser.get(f"/admin/task/edit/?id={HUGE}").status_code == 302
    owner_filter = browser.filter_arg("/admin/company/", "Opiekun")
    page = html.unescape(browser.text(f"/admin/company/?flt0_{owner_filter}={HUGE}"))
    assert "Firma" in page, "the invalid filter is left out"
    for bounds in (f"offset={HUGE}", f"limit={HUGE}", "limit=-1", "offset=-1"):
        assert browser.get(f"/admin/lead/ajax/lookup/?name=company_id&query=Fi&{bounds}").status_code == 400, bounds
    assert browser.get("/admin/lead/ajax/lookup/?name=company_id&query=Fi&offset=0&limit=10").get_json() == [
        [firm["id"], "Firma"]
    ]
