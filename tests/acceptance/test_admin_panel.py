"""Admins and sales people work in the admin panel at /admin: they log in, browse and
filter record lists, fill in forms, run bulk actions, manage users, in Polish or English."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opiekun.admin.actions import BulkAction
from opiekun.extensions import db
from opiekun.models import Company, User
from opiekun.permissions import Permission
from opiekun.testing.apps import PASSWORD, build_app
from opiekun.testing.clients import AdminBrowser, flashed, logged_in
from opiekun.testing.plugins import make_plugin

RECORD_LISTS = ("company", "person", "lead", "deal", "offer", "invoice")


@pytest.fixture
def browser(app) -> AdminBrowser:
    return AdminBrowser(app)


def company_names(app) -> dict[str, int | None]:
    with app.app_context():
        return {company.name: company.owner_id for company in db.session.scalars(select(Company))}


# --- logging in -----------------------------------------------------------------------------


def test_a_guest_is_sent_to_the_login_page_and_back_after_logging_in(browser, seller):
    response = browser.get("/admin/company/")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]

    login_page = browser.text("/login")
    assert "bootstrap.min.css" in login_page and "cdn" not in login_page.lower()
    token = browser.csrf_token("/login")
    logged = browser.http.post(
        "/login?next=/admin/company/", data={"csrf_token": token, "email": seller["email"], "password": PASSWORD}
    )
    assert logged.status_code == 302 and logged.headers["Location"].endswith("/admin/company/")
    home = browser.text("/admin/")
    assert seller["name"] in home and "/logout" in home

    assert browser.log_out().status_code == 302
    assert browser.get("/admin/").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(browser, seller):
    response = browser.log_in(seller, password="not-the-password")
    assert response.status_code == 200 and "alert" in flashed(response)
    assert browser.get("/admin/").status_code == 302


def test_a_departed_user_cannot_log_in(api, admin, other_seller, browser):
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200
    response = browser.log_in(other_seller)
    assert response.status_code == 200
    assert browser.get("/admin/").status_code == 302


# --- record lists ---------------------------------------------------------------------------


@pytest.mark.parametrize("record_list", RECORD_LISTS)
def test_every_record_list_renders_with_the_owner_filters(app, admin, record_list):
    browser = logged_in(app, admin)
    page = browser.text(f"/admin/{record_list}/")
    for label in ("Opiekun", "Bez opiekuna", "Opiekun odszedł", "Utworzono", "Zmieniono"):
        assert label in page, label
    for label in ("Opiekun", "Bez opiekuna", "Opiekun odszedł"):
        arg = browser.filter_arg(f"/admin/{record_list}/", label)
        value = admin["id"] if label == "Opiekun" else 1
        assert browser.get(f"/admin/{record_list}/?flt0_{arg}={value}").status_code == 200


def test_owner_filters_find_my_records_unowned_ones_and_those_of_departed_users(app, api, admin, seller, other_seller):
    api.post("/companies", seller, json={"name": "Firma Stefana"})
    api.post("/companies", seller, json={"name": "Firma niczyja", "owner_id": None})
    api.post("/companies", other_seller, json={"name": "Firma Olgi"})
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, admin)

    def listed(label: str, value) -> set[str]:
        arg = browser.filter_arg("/admin/company/", label)
        page = browser.text(f"/admin/company/?flt0_{arg}={value}")
        return {name for name in ("Firma Stefana", "Firma niczyja", "Firma Olgi") if name in page}

    assert listed("Opiekun", seller["id"]) == {"Firma Stefana"}
    assert listed("Bez opiekuna", 1) == {"Firma niczyja"}
    assert listed("Opiekun odszedł", 1) == {"Firma Olgi"}
    assert listed("Opiekun odszedł", 0) == {"Firma Stefana", "Firma niczyja"}
    departed_owner = browser.text(f"/admin/company/?flt0_{browser.filter_arg('/admin/company/', 'Opiekun odszedł')}=1")
    assert f"{other_seller['name']} (nie pracuje już, {other_seller['email']})" in departed_owner


def test_the_owner_filter_offers_departed_users_marked_as_such(app, api, admin, other_seller):
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, admin)
    browser.switch_language("en")
    page = browser.text("/admin/company/")
    assert f"departed: {other_seller['name']} ({other_seller['email']})" in page


def test_search_finds_records_by_their_search_columns(app, api, seller):
    api.post("/companies", seller, json={"name": "Agrotech", "city": "Poznań"})
    api.post("/companies", seller, json={"name": "Budimex", "city": "Warszawa"})
    browser = logged_in(app, seller)
    page = browser.text("/admin/company/?search=Pozna")
    assert "Agrotech" in page and "Budimex" not in page


# --- forms ----------------------------------------------------------------------------------


def test_a_seller_creates_a_company_through_the_form_and_owns_it(app, seller):
    browser = logged_in(app, seller)
    form = browser.text("/admin/company/new/")
    assert f'<option selected value="{seller["id"]}">' in form, "the owner select starts on me"

    response = browser.submit("/admin/company/new/", {"name": "Nowa firma", "city": "Gdańsk"})
    assert response.status_code == 302
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.name == "Nowa firma"))
        assert company.owner_id == seller["id"] and company.created_by_id == seller["id"] and company.city == "Gdańsk"


def test_a_seller_cannot_change_a_colleagues_company(app, api, seller, other_seller):
    company = api.post("/companies", other_seller, json={"name": "Firma Olgi"}).get_json()
    browser = logged_in(app, seller)
    url = f"/admin/company/edit/?id={company['id']}"

    response = browser.submit(url, {"name": "Przejęta", "owner": str(seller["id"])}, follow_redirects=True)
    assert "należy do innego użytkownika" in flashed(response)
    assert company_names(app) == {"Firma Olgi": other_seller["id"]}


def test_a_form_posted_without_its_csrf_token_is_refused(app, api, seller):
    company = api.post("/companies", seller, json={"name": "Moja firma"}).get_json()
    browser = logged_in(app, seller)
    response = browser.http.post(f"/admin/company/edit/?id={company['id']}", data={"name": "Podmieniona"})
    assert response.status_code == 400
    assert browser.http.post("/admin/company/new/", data={"name": "Podrzucona"}).status_code == 400
    assert company_names(app) == {"Moja firma": seller["id"]}


# --- plugins' bulk actions ------------------------------------------------------------------


def _archive_plugin(calls: list):
    def archive(record_type, ids):
        calls.append((record_type.name, sorted(ids)))
        for company in db.session.scalars(select(Company).where(Company.id.in_(ids))):
            company.city = "Archiwum"
        return f"{len(ids)} archived"

    def opiekun_admin_bulk_actions(record_type):
        if record_type.name == "company":
            return [BulkAction("archive", "Archive", archive, "Archive them?", permission="archive.run")]
        return []

    def opiekun_permissions():
        return [Permission("archive.run", "Archive records", ("manager",))]

    return make_plugin(
        "archive", opiekun_admin_bulk_actions=opiekun_admin_bulk_actions, opiekun_permissions=opiekun_permissions
    )


def test_a_plugins_bulk_action_runs_only_for_holders_of_its_permission(tmp_path, fresh_database):
    from opiekun.testing.clients import ApiClient

    calls: list = []
    app = build_app(tmp_path, fresh_database.url(), extra_plugins=[_archive_plugin(calls)])
    api = ApiClient(app)
    manager = api.create_user("kierownik@firma.example", role="manager")
    seller = api.create_user("handlowiec@firma.example", role="user")
    first = api.post("/companies", seller, json={"name": "Pierwsza"}).get_json()
    second = api.post("/companies", seller, json={"name": "Druga"}).get_json()

    as_seller = logged_in(app, seller)
    assert "Archive" not in as_seller.text("/admin/company/")
    as_seller.run_action("/admin/company/", "archive", [first["id"]])
    assert calls == []

    as_manager = logged_in(app, manager)
    assert "Archive" in as_manager.text("/admin/company/")
    response = as_manager.run_action("/admin/company/", "archive", [first["id"], second["id"]])
    assert "2 archived" in flashed(response)
    assert calls == [("company", sorted([first["id"], second["id"]]))]
    with app.app_context():
        assert {company.city for company in db.session.scalars(select(Company))} == {"Archiwum"}
        db.engine.dispose()


# --- users ----------------------------------------------------------------------------------


def test_the_users_page_needs_the_users_manage_permission(app, admin, seller):
    assert logged_in(app, seller).get("/admin/users/").status_code == 403
    page = logged_in(app, admin).text("/admin/users/")
    assert seller["email"] in page and "Użytkownicy" in page


def test_marking_a_user_departed_and_the_last_admin_is_refused(app, admin, seller):
    browser = logged_in(app, admin)
    response = browser.run_action("/admin/users/", "mark_departed", [seller["id"]])
    assert "1" in flashed(response)
    with app.app_context():
        assert db.session.get(User, seller["id"]).status == "departed"

    refused = browser.run_action("/admin/users/", "mark_departed", [admin["id"]])
    assert (
        "Ostatni aktywny administrator musi pozostać aktywnym administratorem; najpierw nadaj komuś innemu rolę "
        "administratora: Status: ostatni aktywny administrator"
    ) in flashed(refused)
    with app.app_context():
        assert db.session.get(User, admin["id"]).status == "active"


# --- languages and plugins page -------------------------------------------------------------


def test_labels_are_polish_by_default_and_english_after_the_switch(app, seller):
    browser = logged_in(app, seller)
    polish = browser.text("/admin/company/")
    assert "Firmy" in polish and "Rekordy" in polish and "Wyloguj" in polish

    switched = browser.switch_language("en", headers={"Referer": "http://localhost/admin/company/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/admin/company/"
    english = browser.text("/admin/company/")
    assert "Companies" in english and "Records" in english and "Log out" in english and "Firmy" not in english


def test_the_plugins_page_lists_the_enabled_plugins_and_their_hooks(app, admin):
    page = logged_in(app, admin).text("/admin/plugins/")
    host = app.extensions["opiekun.plugins"]
    for plugin in host.plugins:
        assert plugin.name in page and plugin.manifest.version in page
        for hook in host.hooks_of(plugin.name):
            assert hook in page
