"""Ownership in the admin panel, as a sales team uses it: the "Owners" section of a record,
"Change owner…" on ticked rows and on every record matching the list's filter, the
"Records by owner" report, and the settings page (admins only)."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.clients import flashed, logged_in
from tests.ownership.support import ACTION, day, polish_day, submit_form


def company(api, user, name="Stal-Bud", **fields) -> dict:
    response = api.post("/companies", user, json={"name": name, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def owners(app) -> dict[str, int | None]:
    with app.app_context():
        return {firm.name: firm.owner_id for firm in db.session.scalars(select(Company))}


def test_the_record_page_shows_its_whole_ownership_history(app, api, seller, other_seller):
    firm = company(api, seller)
    api.post(
        "/ownership/assignments",
        seller,
        json={
            "object_type": "company",
            "object_ids": [firm["id"]],
            "user_id": seller["id"],
            "valid_from": day(-30),
            "on_overlap": "replace",
        },
    )
    api.patch(f"/companies/{firm['id']}", seller, json={"owner_id": other_seller["id"]})
    page = logged_in(app, seller).text(f"/admin/company/details/?id={firm['id']}")
    history = page[page.index('id="ownership-history"') :]
    assert "Opiekunowie" in page or "Owners" in page
    assert history.index(seller["name"]) < history.index(other_seller["name"])
    assert f"{polish_day(-30)} – {polish_day(-1)}" in history, "the period in the Polish format"


def test_change_owner_of_ticked_rows_asks_for_the_new_owner_and_dates(app, api, seller, other_seller):
    first, second = company(api, seller, "Pierwsza"), company(api, seller, "Druga")
    company(api, seller, "Trzecia")
    browser = logged_in(app, seller)
    assert "Zmień opiekuna" in browser.text("/admin/company/")
    response = browser.submit(
        "/admin/company/action/",
        {"action": ACTION, "rowid": [str(first["id"]), str(second["id"])]},
        form_url="/admin/company/",
    )
    assert response.status_code == 302 and "/bulk/" in response.headers["Location"]
    form_url = response.headers["Location"]
    assert "2" in browser.text(form_url)
    done = submit_form(
        browser,
        form_url,
        {
            "user": str(other_seller["id"]),
            "kind": "primary",
            "role": "sales",
            "valid_from": day(),
            "valid_to": "",
            "on_overlap": "replace",
            "access": "write",
        },
    )
    assert done.status_code == 200
    assert owners(app) == {"Pierwsza": other_seller["id"], "Druga": other_seller["id"], "Trzecia": seller["id"]}


def test_change_owner_of_every_record_matching_the_filter_across_pages(app, api, manager, seller, other_seller):
    for n in range(55):
        company(api, seller, f"Hurt {n}")
    company(api, other_seller, "Cudza")
    browser = logged_in(app, manager)
    arg = browser.filter_arg("/admin/company/", "Opiekun")
    list_page = browser.text(f"/admin/company/?flt0_{arg}={seller['id']}")
    assert "Wszystkie 55 pasujących" in list_page or "All 55 matching" in list_page
    link = re.search(r'href="([^"]*/bulk/ownership_change_owner/\?[^"]*scope=all[^"]*)"', list_page).group(1)
    form_url = link.replace("&amp;", "&")
    done = submit_form(
        browser,
        form_url,
        {
            "user": str(manager["id"]),
            "kind": "primary",
            "role": "sales",
            "valid_from": day(),
            "on_overlap": "replace",
            "access": "write",
        },
    )
    assert done.status_code == 200
    result = owners(app)
    assert sum(1 for owner in result.values() if owner == manager["id"]) == 55 and result["Cudza"] == other_seller["id"]


def test_warn_in_the_form_shows_the_conflict_and_changes_nothing(app, api, seller, other_seller):
    firm = company(api, seller, "Zajęta")
    browser = logged_in(app, seller)
    form_url = f"/admin/company/bulk/{ACTION}/?ids={firm['id']}"
    page = submit_form(
        browser,
        form_url,
        {
            "user": str(other_seller["id"]),
            "kind": "primary",
            "role": "sales",
            "valid_from": day(),
            "on_overlap": "warn",
            "access": "write",
        },
    )
    message = flashed(page)
    assert (
        "nachodzące na nowy: 1; niczego nie zmieniono" in message and "konflikty z istniejącymi okresami: 1" in message
    ), message
    assert owners(app) == {"Zajęta": seller["id"]}


def test_roles_not_allowed_to_change_owners_do_not_see_the_action_and_cannot_run_it(
    app, api, admin, seller, other_seller
):
    firm = company(api, seller)
    api.patch("/ownership/settings/company", admin, json={"change_roles": ["manager"]})
    browser = logged_in(app, seller)
    assert "Zmień opiekuna" not in browser.text("/admin/company/")
    assert browser.get(f"/admin/company/bulk/{ACTION}/?ids={firm['id']}").status_code == 403
    assert "Zmień opiekuna" in logged_in(app, admin).text("/admin/company/")


def test_owner_required_is_a_form_message_in_the_admin(app, api, admin, seller):
    api.patch("/ownership/settings/company", admin, json={"owner_required": True})
    browser = logged_in(app, seller)
    response = browser.submit("/admin/company/new/", {"name": "Bez opiekuna", "owner": "__None"}, follow_redirects=True)
    assert "owner_id" in flashed(response) or "opiekun" in flashed(response).lower()
    assert owners(app) == {}


def test_the_records_by_owner_report_lists_a_users_records_in_a_period_and_departed_users(
    app, api, admin, seller, other_seller
):
    company(api, seller, "Stefana")
    company(api, other_seller, "Olgi")
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    browser = logged_in(app, admin)
    page = browser.text(f"/admin/ownership_report/?user_id={seller['id']}&from={day(-7)}&to={day()}")
    report = page[page.index('id="report"') :]
    assert "Stefana" in report and "Olgi" not in report
    assert f"{other_seller['name']} (nie pracuje już, {other_seller['email']})" in page
    api.patch("/ownership/options", admin, json={"show_departed": False})
    page = browser.text("/admin/ownership_report/")
    assert other_seller["email"] not in page
    groups = json.loads(
        re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', browser.text("/admin/company/"), re.S).group(1)
    )
    assert other_seller["email"] not in json.dumps(groups["Opiekun"], ensure_ascii=False), (
        "owner filters follow the option"
    )


def test_the_settings_page_is_for_admins(app, api, admin, seller):
    assert logged_in(app, seller).get("/admin/ownership_settings/").status_code == 403
    browser = logged_in(app, admin)
    assert "type-settings" in browser.text("/admin/ownership_settings/")
    done = submit_form(
        browser,
        "/admin/ownership_settings/company/",
        {"owner_required": "y", "inactivity_days": "45", "change_roles": ["manager"]},
    )
    assert done.status_code == 200
    settings = api.get("/ownership/settings/company", admin).get_json()
    assert settings == {
        "object_type": "company",
        "owner_required": True,
        "inactivity_days": 45,
        "change_roles": ["manager"],
    }


def test_roles_not_allowed_to_change_owners_see_the_owner_read_only_in_the_record_form(
    app, api, admin, manager, seller, other_seller
):
    firm = company(api, seller, "Stal-Bud")
    api.patch("/ownership/settings/company", admin, json={"change_roles": ["manager"]})
    browser = logged_in(app, seller)
    edit_url = f"/admin/company/edit/?id={firm['id']}"
    assert re.search(r'<select[^>]*\bdisabled\b[^>]*name="owner"', browser.text(edit_url)), "shown, read-only"

    # a browser sends nothing for a disabled field: the rest is saved, the owner stays
    assert submit_form(browser, edit_url, {"name": "Stal-Bud SA"}).status_code == 200
    assert owners(app) == {"Stal-Bud SA": seller["id"]}

    # an owner posted anyway is refused under the owner field, not with Flask-Admin's generic message
    page = flashed(submit_form(browser, edit_url, {"name": "Inna nazwa", "owner": str(other_seller["id"])}))
    owner_field = page[page.index('name="owner"') : page.index("</div>", page.index("invalid-feedback"))]
    assert "Twoja rola nie może tu zmieniać opiekuna" in owner_field
    assert "Nie udało się" not in page
    assert owners(app) == {"Stal-Bud SA": seller["id"]}

    # roles that may change owners still can
    assert (
        submit_form(
            logged_in(app, manager), edit_url, {"name": "Stal-Bud SA", "owner": str(other_seller["id"])}
        ).status_code
        == 200
    )
    assert owners(app) == {"Stal-Bud SA": other_seller["id"]}


# --- the period forms of a record's page refuse what the user may not do ------------------------


def deputy_period(api, manager, firm_id: int, user_id: int) -> int:
    response = api.post(
        "/ownership/assignments",
        manager,
        json={"object_type": "company", "object_ids": [firm_id], "user_id": user_id, "kind": "deputy"},
    )
    assert response.status_code == 201, response.get_json()
    items = api.get(f"/ownership/assignments?object_type=company&object_id={firm_id}&kind=deputy", manager)
    return items.get_json()["items"][0]["id"]


def periods_of(api, manager, firm_id: int) -> list:
    return api.get(f"/ownership/assignments?object_type=company&object_id={firm_id}", manager).get_json()["items"]


def test_a_colleagues_forged_period_posts_are_refused_and_change_nothing(app, api, manager, seller, other_seller):
    firm = company(api, seller, "Cudza")
    period_id = deputy_period(api, manager, firm["id"], manager["id"])
    before = periods_of(api, manager, firm["id"])
    colleague = logged_in(app, other_seller)
    token = colleague.csrf_token("/admin/")
    posts = {
        f"/admin/ownership_periods/add/company/{firm['id']}/": {
            "user": str(other_seller["id"]),
            "kind": "primary",
            "role": "sales",
            "access": "write",
            "valid_from": day(),
            "on_overlap": "replace",
            "confirm": "replace",
        },
        f"/admin/ownership_periods/{period_id}/edit/": {
            "user": str(other_seller["id"]),
            "role": "sales",
            "valid_from": day(),
        },
        f"/admin/ownership_periods/{period_id}/end/": {"last_day": day()},
        f"/admin/ownership_periods/{period_id}/delete/": {},
    }
    for url, data in posts.items():
        assert colleague.http.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    assert colleague.get(f"/admin/ownership_periods/add/company/{firm['id']}/").status_code == 403
    assert periods_of(api, manager, firm["id"]) == before
    assert api.get(f"/companies/{firm['id']}", manager).get_json()["owner_id"] == seller["id"]


def test_unknown_records_and_periods_are_404(app, api, manager, seller):
    firm = company(api, seller)
    browser = logged_in(app, manager)
    token = browser.csrf_token("/admin/")
    for url in (
        "/admin/ownership_periods/add/company/999999/",
        "/admin/ownership_periods/add/nosuchtype/1/",
        f"/admin/ownership_periods/add/company/{2**40}/",
        "/admin/ownership_periods/999999/edit/",
        "/admin/ownership_periods/",
    ):
        assert browser.get(url).status_code == 404, url
    for url in ("/admin/ownership_periods/999999/end/", "/admin/ownership_periods/999999/delete/"):
        assert browser.http.post(url, data={"csrf_token": token}).status_code == 404, url
    assert len(periods_of(api, manager, firm["id"])) == 1


def test_ending_a_period_before_it_starts_is_refused_in_polish_and_changes_nothing(app, api, manager, seller):
    firm = company(api, seller)
    period_id = deputy_period(api, manager, firm["id"], manager["id"])
    browser = logged_in(app, manager)
    token = browser.csrf_token(f"/admin/company/details/?id={firm['id']}")
    before = periods_of(api, manager, firm["id"])
    response = browser.http.post(
        f"/admin/ownership_periods/{period_id}/end/",
        data={"csrf_token": token, "last_day": day(-10)},
        follow_redirects=True,
    )
    assert f"nie może być wcześniej niż początek okresu ({day()})" in flashed(response), flashed(response)
    assert periods_of(api, manager, firm["id"]) == before


def test_control_characters_in_the_period_form_are_refused(app, api, manager, seller, other_seller):
    firm = company(api, seller)
    browser = logged_in(app, manager)
    url = f"/admin/ownership_periods/add/company/{firm['id']}/"
    response = submit_form(
        browser,
        url,
        {
            "user": str(other_seller["id"]),
            "kind": "deputy",
            "role": "sales\x07",
            "access": "write",
            "valid_from": day(),
            "on_overlap": "warn",
        },
    )
    assert response.status_code == 200
    assert len(periods_of(api, manager, firm["id"])) == 1
