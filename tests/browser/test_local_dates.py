"""Dates the Polish way in the panel: a deal's close date picked in a Polish calendar and
typed as 31.12.2026, the list filtered by a range of days chosen in the picker, times on
the user's clock — and a user who moves to another time zone on "My account"."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from opiekun.extensions import db
from opiekun.models import Company
from tests.browser.conftest import log_in


def test_a_close_date_is_picked_and_typed_the_polish_way(page, api, seller, pipeline):
    deal = api.post("/deals", seller, json={"name": "Hala magazynowa", "pipeline_id": pipeline["id"]}).get_json()
    log_in(page, seller)
    page.goto(f"/admin/deal/edit/?id={deal['id']}")
    page.wait_for_load_state("load")
    close_date = page.get_by_label("Data zamknięcia")
    close_date.click()
    picker = page.locator(".daterangepicker:visible")
    expect(picker).to_contain_text("Zastosuj")
    expect(picker.locator("select.monthselect").first).to_contain_text("Gru")  # Polish month names
    expect(picker.locator("th").filter(has_text="ś").first).to_be_visible()  # Polish days, from Monday
    expect(picker.locator("thead tr:nth-child(2) th").first).to_have_text("p")  # poniedziałek
    close_date.fill("31.12.2026")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert api.get(f"/deals/{deal['id']}", seller).get_json()["close_date"] == "2026-12-31"
    page.goto(f"/admin/deal/details/?id={deal['id']}")
    expect(page.locator("body")).to_contain_text("31.12.2026")


def test_the_list_is_filtered_by_days_chosen_in_the_picker(page, app, api, admin):
    names = {"Grudniowa": dt.datetime(2026, 12, 1, 9, 0), "Listopadowa": dt.datetime(2026, 11, 30, 22, 30)}
    for name, moment in names.items():
        company = api.post("/companies", admin, json={"name": name}).get_json()
        with app.app_context():
            db.session.get(Company, company["id"]).created_at = moment.replace(tzinfo=dt.UTC)
            db.session.commit()
    log_in(page, admin)
    page.goto("/admin/company/")
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Dodaj filtr").click()
    page.get_by_role("link", name="Utworzono", exact=True).click()
    value = page.locator("input.filter-val").last
    expect(value).to_have_attribute("data-date-format", "DD.MM.YYYY")
    value.fill("01.12.2026 – 31.12.2026")
    page.locator("#filter_form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"flt\d+_\d+=01.12.2026"))
    expect(page.locator("table.model-list")).to_contain_text("Grudniowa")
    # 22:30 UTC on 30 November is 23:30 in Warsaw: still November
    expect(page.locator("table.model-list")).not_to_contain_text("Listopadowa")
    expect(page.locator("input.filter-val").last).to_have_value("01.12.2026 – 31.12.2026")


def test_a_user_moves_to_another_time_zone_on_my_account(page, app, api, seller):
    company = api.post("/companies", seller, json={"name": "Zegarmistrz"}).get_json()
    with app.app_context():
        db.session.get(Company, company["id"]).created_at = dt.datetime(2026, 12, 6, 8, 15, tzinfo=dt.UTC)
        db.session.commit()
    log_in(page, seller)
    page.goto(f"/admin/company/details/?id={company['id']}")
    expect(page.locator("body")).to_contain_text("6.12.2026, 09:15")
    page.goto("/admin/account/")
    page.get_by_label("Strefa czasowa").select_option("America/New_York")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Ustawienia zostały zapisane.")
    page.goto(f"/admin/company/details/?id={company['id']}")
    expect(page.locator("body")).to_contain_text("6.12.2026, 03:15")


def test_the_record_pages_own_date_inputs_take_the_polish_format(page, api, seller):
    """Not the browser's date input (its format is the browser's language's): the panel's
    text input with the Polish picker, read back whichever way it was typed."""
    company = api.post("/companies", seller, json={"name": "Dniówka"}).get_json()
    log_in(page, seller)
    page.goto(f"/admin/company/details/?id={company['id']}")
    page.wait_for_load_state("load")
    on_day = page.get_by_label("Opiekun w dniu")
    expect(on_day).to_have_value(re.compile(r"^\d\d\.\d\d\.\d{4}$"))
    on_day.click()
    expect(page.locator(".daterangepicker:visible")).to_contain_text("Zastosuj")
    on_day.fill("01.01.2020")
    page.keyboard.press("Escape")
    page.locator("#owners-on-day").get_by_role("button", name="Pokaż").click()
    expect(page.locator("#owners-on-day-answer")).to_contain_text("W dniu 1.01.2020 rekord nie miał opiekuna.")
    expect(page.get_by_label("Opiekun w dniu")).to_have_value("01.01.2020")
