"""The start page shows what needs attention, and every number on it opens the list of
exactly what it counts: a salesperson's own work; for an admin, the team's."""

from __future__ import annotations

import datetime as dt
import html
import re

from opiekun import local_time
from opiekun.testing.clients import logged_in
from tests.support.statements import statements_sent


def panel(page: str, key: str) -> str:
    """The HTML of one panel of the start page (empty when it is not shown)."""
    found = re.search(rf'id="panel-{key}".*?(?=<div class="card h-100 home-panel"|\Z)', page, re.S)
    return found.group(0) if found else ""


def figures(panel_html: str) -> dict[str, tuple[int, str]]:
    """``{label: (number, link)}`` of a panel's figures."""
    pattern = r'data-figure="([^"]+)">.*?href="([^"]+)">([^<]+)</a>'
    return {
        html.unescape(label): (int(re.sub(r"\D", "", number)), html.unescape(url))
        for label, url, number in re.findall(pattern, panel_html, re.S)
    }


def listed_ids(browser, url: str) -> list[int]:
    """The ids of the rows of a list page."""
    return [int(row_id) for row_id in re.findall(r'name="rowid"[^>]*value="(\d+)"', browser.text(url))]


def task(api, user, title: str, due: dt.date, responsible: dict | None = None, done: bool = False) -> dict:
    types = {item["name"]: item["id"] for item in api.get("/task-types", user).get_json()["items"]}
    body = {"title": title, "type_id": types["Telefon"], "due_date": due.isoformat(), "done": done}
    if responsible is not None:
        body["responsible_id"] = responsible["id"]
    response = api.post("/tasks", user, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_salesperson_sees_their_own_work_and_each_number_opens_its_list(app, api, admin, seller, other_seller):
    today = local_time.today()
    mine = [api.post("/companies", seller, json={"name": name}).get_json() for name in ("Alfa", "Beta")]
    api.post("/companies", other_seller, json={"name": "Gamma"})
    due_today = task(api, seller, "Telefon do Alfy", today)
    late = task(api, seller, "Oferta dla Bety", today - dt.timedelta(days=3))
    task(api, seller, "Zrobione wczoraj", today - dt.timedelta(days=1), done=True)
    task(api, other_seller, "Nie moje", today - dt.timedelta(days=1))
    browser = logged_in(app, seller)
    page = browser.text("/admin/")

    assert "Moja praca" in page
    records = figures(panel(page, "my-records"))
    assert records["Firmy"][0] == 2
    assert sorted(listed_ids(browser, records["Firmy"][1])) == sorted(company["id"] for company in mine)

    tasks = figures(panel(page, "my-tasks"))
    assert tasks["Na dziś"][0] == 1 and listed_ids(browser, tasks["Na dziś"][1]) == [due_today["id"]]
    assert tasks["Zaległe"][0] == 1 and listed_ids(browser, tasks["Zaległe"][1]) == [late["id"]]
    listing = panel(page, "my-tasks")
    assert listing.index("Oferta dla Bety") < listing.index("Telefon do Alfy"), "the overdue one first"
    assert f'href="/admin/task/details/?id={late["id"]}"' in listing

    assert 'id="home-team"' not in page, "a salesperson sees no team panels"
    for key in ("unowned", "owner-load", "team-overdue", "departed-with-records", "transfers"):
        assert panel(page, key) == "", key


def test_an_admin_sees_what_needs_the_teams_attention(app, api, admin, seller, other_seller):
    today = local_time.today()
    nobody_s = api.post("/companies", admin, json={"name": "Bez opiekuna", "owner_id": None}).get_json()
    for name in ("S1", "S2", "S3"):
        api.post("/companies", seller, json={"name": name})
    olga_s = api.post("/companies", other_seller, json={"name": "Olgi"}).get_json()
    late = task(api, seller, "Zaległy telefon", today - dt.timedelta(days=2))
    assert api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"}).status_code == 200
    browser = logged_in(app, admin)
    page = browser.text("/admin/")
    assert 'id="home-team"' in page

    unowned = figures(panel(page, "unowned"))
    assert unowned["Firmy"][0] == 1
    assert listed_ids(browser, unowned["Firmy"][1]) == [nobody_s["id"]]

    load = panel(page, "owner-load")
    assert "<svg" in load and "kozea.github.io" not in load, "drawn on the server, nothing fetched"
    assert "Stefan Sprzedawca" in load
    assert "Olga Inna" in load and "#dc3545" in load, "the departed owner is marked"

    overdue = figures(panel(page, "team-overdue"))
    assert overdue["Zaległe"][0] == 1 and listed_ids(browser, overdue["Zaległe"][1]) == [late["id"]]

    departed = panel(page, "departed-with-records")
    assert figures(departed)["Użytkownicy"][0] == 1
    assert f'href="/admin/offboarding/user/{other_seller["id"]}/"' in departed
    assert "1 rekord" in departed
    assert olga_s["id"] in listed_ids(browser, "/admin/company/?flt0_2=1")

    transfers = figures(panel(page, "transfers"))
    assert {label: number for label, (number, _) in transfers.items()} == {"w kolejce": 0, "w toku": 0, "nieudane": 0}


def test_the_start_page_takes_few_queries_whatever_the_number_of_records(app, api, admin, seller):
    """Counts come from grouped, indexed queries: the page's queries do not grow with rows."""

    def queries_for_home() -> int:
        browser = logged_in(app, admin)
        with statements_sent(app) as statements:
            browser.text("/admin/")
        return len(statements)

    few = queries_for_home()
    for number in range(30):
        api.post("/companies", seller, json={"name": f"Firma {number}"})
    assert queries_for_home() == few
