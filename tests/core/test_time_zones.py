"""Each user's time zone and language: set on "My account" (or by a user manager, or
through the API), times in the panel shown and typed on that clock, a deal's amount in
its currency the Polish way, and the panel's error pages in the user's language."""

from __future__ import annotations

import datetime as dt

from opiekun.extensions import db
from opiekun.models import Company, User
from opiekun.testing.clients import flashed, logged_in


def _company_created_at(app, api, user, moment: dt.datetime) -> int:
    company = api.post("/companies", user, json={"name": "Zegarowa"}).get_json()
    with app.app_context():
        db.session.get(Company, company["id"]).created_at = moment
        db.session.commit()
    return company["id"]


def test_a_user_chooses_a_time_zone_on_my_account_and_sees_times_on_that_clock(app, api, seller):
    company_id = _company_created_at(app, api, seller, dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC))
    browser = logged_in(app, seller)
    details = f"/admin/company/details/?id={company_id}"
    assert "1.07.2026, 12:00" in browser.text(details), "Warsaw (summer time) by default"
    response = browser.submit(
        "/admin/account/preferences/", {"locale": "pl", "time_zone": "Asia/Tokyo"}, form_url="/admin/account/"
    )
    assert response.status_code == 302 and "Ustawienia zostały zapisane." in flashed(browser.get("/admin/account/"))
    assert "1.07.2026, 19:00" in browser.text(details)
    with app.app_context():
        assert db.session.get(User, seller["id"]).time_zone == "Asia/Tokyo"


def test_an_unknown_time_zone_is_refused_and_nothing_changes(app, api, seller):
    browser = logged_in(app, seller)
    for bad in ("Mars/Olympus", "Europe/Warsaw\x00", "x" * 5000, "../../etc/passwd"):
        response = browser.submit(
            "/admin/account/preferences/", {"locale": "pl", "time_zone": bad}, form_url="/admin/account/"
        )
        assert response.status_code in (200, 400), bad
        answer = api.patch(f"/users/{seller['id']}", seller, json={"time_zone": bad})
        assert answer.status_code == 422, bad
    with app.app_context():
        assert db.session.get(User, seller["id"]).time_zone is None


def test_the_api_sets_and_clears_ones_own_time_zone_but_not_someone_elses(api, seller, other_seller, admin):
    answer = api.patch(f"/users/{seller['id']}", seller, json={"time_zone": "America/New_York", "locale": "en"})
    assert answer.status_code == 200
    assert answer.get_json()["time_zone"] == "America/New_York" and answer.get_json()["locale"] == "en"
    assert api.patch(f"/users/{seller['id']}", seller, json={"time_zone": None}).get_json()["time_zone"] is None
    refused = api.patch(f"/users/{other_seller['id']}", seller, json={"time_zone": "Asia/Tokyo"})
    assert refused.status_code == 403
    assert api.get(f"/users/{other_seller['id']}", admin).get_json()["time_zone"] is None
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"time_zone": "Asia/Tokyo"}).status_code == 200
    assert api.patch(f"/users/{seller['id']}", seller, json={"locale": "de"}).status_code == 422


def test_a_date_is_typed_the_polish_way_and_read_back_the_same(app, api, admin, pipeline):
    company = api.post("/companies", admin, json={"name": "Terminowa"}).get_json()
    deal = api.post("/deals", admin, json={"name": "Umowa roczna", "company_id": company["id"], "value": "12345.5"})
    assert deal.status_code == 201, deal.get_json()
    deal_id = deal.get_json()["id"]
    browser = logged_in(app, admin)
    form = browser.text(f"/admin/deal/edit/?id={deal_id}")
    assert 'data-date-format="DD.MM.YYYY"' in form
    page = browser.text(f"/admin/deal/details/?id={deal_id}")
    assert "12\xa0345,50\xa0zł" in page, "the amount in its currency, the Polish way (no-break spaces)"
    assert api.get(f"/deals/{deal_id}", admin).get_json()["value"] in ("12345.50", "12345.5", 12345.5)


def test_the_error_pages_speak_the_users_language(app, seller):
    browser = logged_in(app, seller)
    forbidden = browser.get("/admin/roles/")
    assert forbidden.status_code == 403
    page = forbidden.get_data(as_text=True)
    assert "Nie masz dostępu do tej strony" in page and '<html lang="pl">' in page
    missing = browser.get("/admin/nie-ma-takiej-strony/")
    assert missing.status_code == 404 and "Nie ma tu niczego" in missing.get_data(as_text=True)
    browser.switch_language("en")
    assert "You may not open this page" in browser.get("/admin/roles/").get_data(as_text=True)
    assert app.test_client().get("/api/v1/nothing-here").is_json, "the API keeps answering JSON"
