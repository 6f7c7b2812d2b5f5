"""One owner change is one entry in the record's history (issue 17, "History a person can
read"; audit + ownership): "zmiana opiekuna" with the old and new owner by name — made in
the record's form, through the API, by "Change owner…" on a list or the API's bulk
endpoint — and the history page, the API and the Excel export show the same entries, on
a chain that still verifies."""

from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook

from opiekun.testing.clients import logged_in
from tests.ownership.support import ACTION, day, submit_form

OWNER_CHANGE = "zmiana opiekuna"
ENTRY_ROW = re.compile(r'<tr id="entry-(\d+)">(.*?)</tr>', re.S)


def company(api, user, name: str) -> dict:
    response = api.post("/companies", user, json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def api_entries(api, admin, firm_id: int) -> dict[int, dict]:
    """The record's entries through the API, by id."""
    response = api.get("/audit", admin, query_string={"object_type": "company", "object_id": firm_id})
    assert response.status_code == 200, response.get_json()
    return {entry["id"]: entry for entry in response.get_json()["items"]}


def page_rows(browser, firm_id: int) -> dict[int, str]:
    """The rows of the record's history page in the panel (Polish), as text, by entry id."""
    page = browser.get(f"/admin/audit/?object_type=company&object_id={firm_id}").get_data(as_text=True)
    return {
        int(entry_id): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for entry_id, row in ENTRY_ROW.findall(page)
    }


def export_rows(browser, firm_id: int) -> dict[int, tuple]:
    """The rows of the record's history exported from the panel (Polish workbook), by id."""
    response = browser.get(f"/admin/audit/export.xlsx?object_type=company&object_id={firm_id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    return {row[0]: row for row in list(sheet.iter_rows(values_only=True))[1:]}


def new_entries(api, admin, firm_id: int, before: set[int]) -> list[dict]:
    return [entry for entry_id, entry in api_entries(api, admin, firm_id).items() if entry_id not in before]


def assert_one_owner_change(api, browser, admin, firm_id: int, before: set[int], old: dict, new: dict) -> dict:
    """The change since ``before`` is one entry, an owner change from ``old`` to ``new``, the
    same in the API, on the history page and in the export; returns it (from the API)."""
    [entry] = new_entries(api, admin, firm_id, before)
    assert entry["operation"] == "owner_changed", entry
    [owner] = [item for item in entry["changes"] if item["field"] == "owner_id"]
    assert (owner["old_label"], owner["new_label"]) == (old["name"], new["name"])

    row = page_rows(browser, firm_id)[entry["id"]]
    assert OWNER_CHANGE in row and f"Opiekun : {old['name']} → {new['name']}" in row, row
    assert set(page_rows(browser, firm_id)) == set(api_entries(api, admin, firm_id)), "the page lists what the API does"

    exported = export_rows(browser, firm_id)
    assert set(exported) == set(api_entries(api, admin, firm_id)), "the export lists what the API does"
    assert exported[entry["id"]][9] == OWNER_CHANGE
    assert f"Opiekun: {old['name']} [{old['id']}] → {new['name']} [{new['id']}]" in exported[entry["id"]][10]

    assert api.get("/audit/verify", admin).get_json()["ok"] is True
    return entry


def owner_today(api, admin, firm_id: int) -> int | None:
    response = api.get("/ownership/owner", admin, query_string={"object_type": "company", "object_id": firm_id})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["owner_id"]


def test_an_owner_changed_in_the_record_form_is_one_entry(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Agro-Tech")
    before = set(api_entries(api, admin, firm["id"]))
    browser = logged_in(app, admin)

    saved = browser.submit(f"/admin/company/edit/?id={firm['id']}", {"name": "Agro-Tech", "owner": other_seller["id"]})
    assert saved.status_code == 302, saved.get_data(as_text=True)

    entry = assert_one_owner_change(api, browser, admin, firm["id"], before, seller, other_seller)
    assert [item["field"] for item in entry["changes"]] == ["owner_id"], "nothing else changed"
    assert owner_today(api, admin, firm["id"]) == other_seller["id"], "the owner periods follow"
    section = browser.get(f"/admin/company/details/?id={firm['id']}").get_data(as_text=True)
    assert OWNER_CHANGE in section and "przypisanie opiekuna" not in section


def test_an_owner_changed_through_the_api_is_one_entry(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Hydro-Tech")
    before = set(api_entries(api, admin, firm["id"]))

    response = api.patch(f"/companies/{firm['id']}", admin, json={"owner_id": other_seller["id"]})
    assert response.status_code == 200, response.get_json()

    assert_one_owner_change(api, logged_in(app, admin), admin, firm["id"], before, seller, other_seller)
    assert owner_today(api, admin, firm["id"]) == other_seller["id"]


def test_an_edit_of_the_owner_and_other_fields_is_one_entry_listing_them_all(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Stal-Bud")
    before = set(api_entries(api, admin, firm["id"]))
    browser = logged_in(app, admin)

    saved = browser.submit(
        f"/admin/company/edit/?id={firm['id']}", {"name": "Stal-Bud SA", "city": "Gdańsk", "owner": other_seller["id"]}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)

    entry = assert_one_owner_change(api, browser, admin, firm["id"], before, seller, other_seller)
    assert {item["field"] for item in entry["changes"]} == {"name", "city", "owner_id"}
    row = page_rows(browser, firm["id"])[entry["id"]]
    assert "Nazwa : Stal-Bud → Stal-Bud SA" in row and "Miasto : — → Gdańsk" in row, row


def test_change_owner_on_a_list_and_the_bulk_endpoint_make_one_entry_per_record(
    app, api, admin, manager, seller, other_seller
):
    first, second = company(api, seller, "Pierwsza"), company(api, seller, "Druga")
    before = {firm["id"]: set(api_entries(api, admin, firm["id"])) for firm in (first, second)}
    browser = logged_in(app, admin)
    chosen = browser.submit(
        "/admin/company/action/",
        {"action": ACTION, "rowid": [str(first["id"]), str(second["id"])]},
        form_url="/admin/company/",
    )
    assert chosen.status_code == 302, chosen.get_data(as_text=True)
    done = submit_form(
        browser,
        chosen.headers["Location"],
        {
            "user": str(other_seller["id"]),
            "kind": "primary",
            "role": "sales",
            "valid_from": day(),
            "on_overlap": "replace",
        },
    )
    assert done.status_code == 200
    for firm in (first, second):
        assert_one_owner_change(api, browser, admin, firm["id"], before[firm["id"]], seller, other_seller)

    before = {firm["id"]: set(api_entries(api, admin, firm["id"])) for firm in (first, second)}
    response = api.post(
        "/ownership/assignments",
        admin,
        json={
            "object_type": "company",
            "object_ids": [first["id"], second["id"]],
            "user_id": manager["id"],
            "on_overlap": "replace",
        },
    )
    assert response.status_code == 201, response.get_json()
    for firm in (first, second):
        assert_one_owner_change(api, browser, admin, firm["id"], before[firm["id"]], other_seller, manager)
        assert owner_today(api, admin, firm["id"]) == manager["id"]


def test_changing_and_removing_todays_owner_period_is_one_owner_change_each(app, api, admin, seller, other_seller):
    firm = company(api, seller, "Okresy")
    browser = logged_in(app, admin)
    [period] = api.get(
        "/ownership/assignments", admin, query_string={"object_type": "company", "object_id": firm["id"]}
    ).get_json()["items"]

    before = set(api_entries(api, admin, firm["id"]))
    changed = api.patch(f"/ownership/assignments/{period['id']}", admin, json={"user_id": other_seller["id"]})
    assert changed.status_code == 200, changed.get_json()
    assert_one_owner_change(api, browser, admin, firm["id"], before, seller, other_seller)

    before = set(api_entries(api, admin, firm["id"]))
    assert api.delete(f"/ownership/assignments/{period['id']}", admin).status_code == 204
    [entry] = new_entries(api, admin, firm["id"], before)
    assert entry["operation"] == "owner_changed"
    assert [(item["old_label"], item["new_label"]) for item in entry["changes"]] == [(other_seller["name"], None)]
    assert OWNER_CHANGE in page_rows(browser, firm["id"])[entry["id"]]


def test_a_deputy_is_still_an_owner_assignment_and_an_edit_without_the_owner_still_an_edit(
    app, api, admin, seller, other_seller
):
    firm = company(api, seller, "Zastępstwo")
    before = set(api_entries(api, admin, firm["id"]))
    deputy = api.post(
        "/ownership/assignments",
        admin,
        json={"object_type": "company", "object_ids": [firm["id"]], "user_id": other_seller["id"], "kind": "deputy"},
    )
    assert deputy.status_code == 201, deputy.get_json()
    assert api.patch(f"/companies/{firm['id']}", seller, json={"city": "Ełk"}).status_code == 200

    assert [entry["operation"] for entry in new_entries(api, admin, firm["id"], before)] == [
        "update",
        "owner_assigned",
    ]
    rows = page_rows(logged_in(app, admin), firm["id"])
    assert sum("przypisanie opiekuna" in row for row in rows.values()) == 1
    assert sum("edycja" in row for row in rows.values()) == 1
    assert not any(OWNER_CHANGE in row for row in rows.values())
