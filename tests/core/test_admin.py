"""The admin panel's pieces: record forms follow the API's rules, the shared filters, users,
roles, pipelines, notifications and the home page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from opiekun.admin.views import allowed_values, changed_values
from opiekun.extensions import db
from opiekun.models import Company, Lead, Notification, Pipeline, Role, User
from opiekun.testing.clients import flashed, logged_in


def _set_created_at(app, company_id: int, moment: dt.datetime) -> None:
    with app.app_context():
        company = db.session.get(Company, company_id)
        company.created_at = moment
        db.session.commit()


# --- record lists and forms -----------------------------------------------------------------


@pytest.mark.parametrize("days", ["01.01.2026 – 31.01.2026", "2026-01-01 to 2026-01-31"])
def test_the_created_range_is_whole_days_on_the_users_clock(app, api, admin, days):
    """Typed the Polish way (or as Flask-Admin's ISO links), the range ends at midnight in
    Warsaw: 22:30 UTC on 31 January is still January there, 23:30 UTC is 1 February."""
    january = api.post("/companies", admin, json={"name": "Styczniowa"}).get_json()
    february = api.post("/companies", admin, json={"name": "Lutowa"}).get_json()
    _set_created_at(app, january["id"], dt.datetime(2026, 1, 31, 22, 30, tzinfo=dt.UTC))
    _set_created_at(app, february["id"], dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC))
    browser = logged_in(app, admin)
    arg = browser.filter_arg("/admin/company/", "Utworzono")
    page = browser.text(f"/admin/company/?flt0_{arg}={quote(days)}")
    assert "Styczniowa" in page and "Lutowa" not in page
    details = browser.text(f"/admin/company/details/?id={january['id']}")
    assert "31.01.2026, 23:30" in details  # shown on the same clock


def test_a_user_in_another_time_zone_sees_and_filters_by_their_own_days(app, api, admin):
    """An admin who works from New York: the company created at 03:00 UTC on 1 February
    was created on 31 January (22:00) for them, and is listed under January."""
    company = api.post("/companies", admin, json={"name": "Nowojorska"}).get_json()
    _set_created_at(app, company["id"], dt.datetime(2026, 2, 1, 3, 0, tzinfo=dt.UTC))
    assert api.patch(f"/users/{admin['id']}", admin, json={"time_zone": "America/New_York"}).status_code == 200
    browser = logged_in(app, admin)
    arg = browser.filter_arg("/admin/company/", "Utworzono")
    page = browser.text(f"/admin/company/?flt0_{arg}={quote('31.01.2026 – 31.01.2026')}")
    assert "Nowojorska" in page
    assert "31.01.2026, 22:00" in browser.text(f"/admin/company/details/?id={company['id']}")


def test_fixed_values_are_read_from_the_check_constraints():
    assert allowed_values(Lead) == {"status": ("new", "contacted", "qualified", "disqualified")}
    assert allowed_values(Company) == {}


def test_a_changed_owner_is_reported_as_its_id_column(app, api, seller, other_seller):
    company = api.post("/companies", seller, json={"name": "Firma"}).get_json()
    with app.app_context():
        record = db.session.get(Company, company["id"])
        record.owner = db.session.get(User, other_seller["id"])
        record.city = "Łódź"
        assert changed_values(record, everything=False) == {"owner_id": other_seller["id"], "city": "Łódź"}
        db.session.rollback()


def test_a_lead_links_to_a_company_picked_by_search(app, api, seller):
    company = api.post("/companies", seller, json={"name": "Agrotech"}).get_json()
    browser = logged_in(app, seller)
    lookup = browser.get("/admin/lead/ajax/lookup/?name=company_id&query=agro").get_json()
    assert lookup == [[company["id"], "Agrotech"]]

    response = browser.submit(
        "/admin/lead/new/", {"name": "Zapytanie", "status": "new", "company_id": str(company["id"])}
    )
    assert response.status_code == 302
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.company_id == company["id"] and lead.owner_id == seller["id"]
    assert "Agrotech" in browser.text("/admin/lead/")


def test_a_plugin_refusing_a_record_stops_the_form(app, seller, monkeypatch):
    host = app.extensions["opiekun.plugins"]
    monkeypatch.setattr(host, "validate_record", lambda record_type, record, operation: {"tax_id": "NIP is required"})
    browser = logged_in(app, seller)
    response = browser.submit("/admin/company/new/", {"name": "Bez NIP"})
    assert response.status_code == 200 and "NIP: NIP is required" in flashed(response)
    with app.app_context():
        assert db.session.scalar(select(Company)) is None


def test_a_departed_owner_stays_on_a_record_edited_by_a_manager(app, api, admin, manager, other_seller):
    company = api.post("/companies", other_seller, json={"name": "Firma Olgi"}).get_json()
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, manager)
    url = f"/admin/company/edit/?id={company['id']}"
    assert f"{other_seller['name']} (nie pracuje już" in browser.text(url)
    response = browser.submit(url, {"name": "Firma Olgi S.A.", "owner": str(other_seller["id"])})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.get(Company, company["id"])
        assert record.name == "Firma Olgi S.A." and record.owner_id == other_seller["id"]


def test_a_record_cannot_be_given_to_a_departed_user(app, api, admin, manager, seller, other_seller):
    company = api.post("/companies", seller, json={"name": "Firma"}).get_json()
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, manager)
    response = browser.submit(
        f"/admin/company/edit/?id={company['id']}", {"name": "Firma", "owner": str(other_seller["id"])}
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Company, company["id"]).owner_id == seller["id"]


def test_only_the_owner_deletes_a_record(app, api, seller, other_seller):
    theirs = api.post("/companies", other_seller, json={"name": "Cudza"}).get_json()
    mine = api.post("/companies", seller, json={"name": "Moja"}).get_json()
    browser = logged_in(app, seller)
    refused = browser.submit(
        "/admin/company/delete/", {"id": str(theirs["id"])}, form_url="/admin/company/", follow_redirects=True
    )
    assert "należy do innego użytkownika" in flashed(refused)
    browser.submit("/admin/company/delete/", {"id": str(mine["id"])}, form_url="/admin/company/")
    with app.app_context():
        assert [company.name for company in db.session.scalars(select(Company))] == ["Cudza"]


def test_the_home_page_counts_my_records(app, api, seller, other_seller):
    for name in ("A", "B"):
        api.post("/companies", seller, json={"name": name})
    api.post("/companies", other_seller, json={"name": "C"})
    page = logged_in(app, seller).text("/admin/")
    assert "Moje rekordy" in page and 'href="/admin/company/?flt0_0=' in page
    assert ">2</a>" in page


# --- users and roles ------------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_then_log_in(app, admin):
    browser = logged_in(app, admin)
    response = browser.submit(
        "/admin/users/new/",
        {"name": "Nowy Handlowiec", "email": "Nowy@Firma.example", "role": "user", "password": "tajne-haslo-1"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nowy@firma.example"))
        assert user.password_hash and user.password_hash != "tajne-haslo-1"
    newcomer = logged_in(app, {"email": "nowy@firma.example"}, password="tajne-haslo-1")
    assert "Nowy Handlowiec" in newcomer.text("/admin/")


def test_a_taken_email_and_a_missing_password_are_refused(app, admin, seller):
    browser = logged_in(app, admin)
    taken = browser.submit(
        "/admin/users/new/", {"name": "X", "email": seller["email"].upper(), "role": "user", "password": "haslo-12345"}
    )
    assert "już używany przez innego użytkownika" in flashed(taken), "the API's rule, in Polish"
    no_password = browser.submit("/admin/users/new/", {"name": "Y", "email": "y@firma.example", "role": "user"})
    assert "Nowy użytkownik musi mieć hasło." in flashed(no_password)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "y@firma.example")) is None


def test_the_last_admin_keeps_the_admin_role(app, admin):
    browser = logged_in(app, admin)
    response = browser.submit(
        f"/admin/users/edit/?id={admin['id']}", {"name": admin["name"], "email": admin["email"], "role": "user"}
    )
    assert "ostatni aktywny administrator" in flashed(response).lower()
    with app.app_context():
        assert db.session.get(User, admin["id"]).role == "admin"


def test_a_custom_role_gets_ticked_permissions_and_appears_in_the_role_select(app, admin, seller):
    assert logged_in(app, seller).get("/admin/roles/").status_code == 403
    browser = logged_in(app, admin)
    response = browser.submit(
        "/admin/roles/new/",
        {"name": "asystent", "label": "Asystent", "permissions": ["records.delete", "pipelines.manage"]},
    )
    assert response.status_code == 302
    with app.app_context():
        assert sorted(db.session.scalar(select(Role)).permissions) == ["pipelines.manage", "records.delete"]
    assert '<option value="asystent">Asystent</option>' in browser.text("/admin/users/new/")
    builtin = browser.submit("/admin/roles/new/", {"name": "manager", "label": "Kierownik"})
    assert "rola wbudowana" in flashed(builtin)


# --- pipelines and notifications ------------------------------------------------------------


def test_everyone_sees_pipelines_and_managers_change_them(app, manager, seller, pipeline):
    as_seller = logged_in(app, seller)
    assert "Kontakt → Oferta → Negocjacje" in as_seller.text("/admin/pipelines/")
    assert as_seller.get("/admin/pipelines/new/").status_code == 302

    as_manager = logged_in(app, manager)
    response = as_manager.submit(
        "/admin/pipelines/new/",
        {
            "name": "Serwis",
            "stages-0-name": "Zgłoszenie",
            "stages-1-name": "Naprawa",
            "stages-1-probability": "80",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        serwis = db.session.scalar(select(Pipeline).where(Pipeline.name == "Serwis"))
        assert [(stage.name, stage.position) for stage in serwis.stages] == [("Zgłoszenie", 1), ("Naprawa", 2)]


def test_a_user_sees_and_reads_only_their_own_notifications(app, seller, other_seller):
    with app.app_context():
        db.session.add_all(
            [
                Notification(user_id=seller["id"], kind="owner", message="Dostałeś firmę Agrotech"),
                Notification(user_id=other_seller["id"], kind="owner", message="Wiadomość dla Olgi"),
            ]
        )
        db.session.commit()
    browser = logged_in(app, seller)
    start_page = browser.text("/admin/")
    assert "Dostałeś firmę Agrotech" in start_page and "Wiadomość dla Olgi" not in start_page
    page = browser.text("/admin/notifications/")
    assert "Dostałeś firmę Agrotech" in page and "Wiadomość dla Olgi" not in page

    browser.submit("/admin/notifications/read-all/", {}, form_url="/admin/notifications/")
    with app.app_context():
        unread = {n.message for n in db.session.scalars(select(Notification).where(Notification.read_at.is_(None)))}
        assert unread == {"Wiadomość dla Olgi"}


def test_a_refusal_message_is_english_in_the_api_and_translated_in_the_admin(app):
    from opiekun.admin.views import error_message
    from opiekun.api.errors import api_error_for
    from opiekun.errors import Conflict, Message

    refusal = Conflict(
        Message("transfer %(id)s was already undone", id=7),
        {"status": Message("already undone"), "note": "plain text stays as it is"},
    )
    assert api_error_for(refusal).body()["error"]["message"] == "transfer 7 was already undone"
    assert api_error_for(refusal).body()["error"]["fields"]["status"] == "already undone"
    with app.test_request_context(headers={"Accept-Language": "pl"}):
        shown = error_message(refusal, {"status": "Stan"})
    assert shown == "Przekazanie nr 7 zostało już cofnięte: Stan: już cofnięte; note: plain text stays as it is"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert (
            error_message(refusal)
            == "Transfer 7 was already undone: Status: already undone; note: plain text stays as it is"
        )


def test_flask_admins_texts_come_with_our_corrections_whatever_page_was_first(app, admin):
    """Flask-Admin's catalog says "50 rzeczy" for the page size; ours says "50 na stronie",
    also when the first page of the process had no admin view (the login page)."""
    browser = logged_in(app, admin)
    browser.get("/login")
    page = browser.text("/admin/company/")
    assert "50 na stronie" in page and "rzeczy" not in page
