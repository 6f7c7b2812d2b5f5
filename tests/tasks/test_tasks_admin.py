"""Tasks in the admin panel: the list with its filters shows only what sharing allows (a
free/busy task as "Busy", also in the CSV export), forms save through the same rules as
the API, completing a task offers the next tasks in one step, users set how their tasks
are shared and admins configure types, statuses and templates."""

from __future__ import annotations

import datetime as dt
import re

from opiekun import local_time
from opiekun.testing.clients import flashed, logged_in


def type_ids(api, user):
    return {item["name"]: item["id"] for item in api.get("/task-types", user).get_json()["items"]}


def new_task(api, user, **values):
    response = api.post(
        "/tasks",
        user,
        json={
            "title": "Zadzwonić do ACME",
            "type_id": type_ids(api, user)["Telefon"],
            "due_date": "2030-01-10",
            **values,
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_task_list_shows_only_what_sharing_allows(app, api, seller, other_seller, admin, manager):
    mine = new_task(api, other_seller, title="Moje zadanie")
    busy = new_task(api, seller, title="Tajne negocjacje")
    hidden = new_task(api, manager, title="Zadanie managera")
    api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "free_busy"})
    browser = logged_in(app, other_seller)
    page = browser.text("/admin/task/")
    assert "Moje zadanie" in page and "Tajne negocjacje" not in page and "Zadanie managera" not in page
    assert page.count("Busy") + page.count("Zajęty") >= 1
    export = browser.get("/admin/task/export/csv/").get_data(as_text=True)
    assert "Moje zadanie" in export and "Tajne" not in export and "managera" not in export
    assert browser.get(f"/admin/task/details/?id={busy['id']}", follow_redirects=True).status_code == 200
    assert "Tajne negocjacje" not in flashed(
        browser.get(f"/admin/task/details/?id={busy['id']}", follow_redirects=True)
    )
    assert "Zadanie managera" not in flashed(browser.get(f"/admin/task/edit/?id={hidden['id']}", follow_redirects=True))
    assert "Tajne negocjacje" not in browser.text("/admin/task/?search=Tajne")
    everything = logged_in(app, admin).text("/admin/task/")
    assert all(title in everything for title in ("Moje zadanie", "Tajne negocjacje", "Zadanie managera"))
    assert mine and hidden


def test_list_filters_by_responsible_type_status_due_and_overdue(app, api, seller, admin):
    yesterday = (local_time.today() - dt.timedelta(days=1)).isoformat()
    new_task(api, seller, title="Spóźniony telefon", due_date=yesterday)
    new_task(api, seller, title="Przyszły e-mail", type_id=type_ids(api, seller)["E-mail"])
    browser = logged_in(app, admin)
    labels = {
        "Overdue": "Zaległe",
        "Type": "Typ",
        "Responsible": "Odpowiedzialny",
        "Due date": "Termin",
        "Status": "Status",
    }
    page = browser.get("/admin/task/").get_data(as_text=True)
    for english, polish in labels.items():
        assert english in page or polish in page, english
    overdue_label = "Overdue" if "Overdue" in page else "Zaległe"
    overdue = browser.filter_arg("/admin/task/", overdue_label)
    listed = browser.text(f"/admin/task/?flt0_{overdue}=1")
    assert "Spóźniony telefon" in listed and "Przyszły e-mail" not in listed


def test_a_task_form_saves_through_the_api_rules(app, api, seller):
    browser = logged_in(app, seller)
    types = type_ids(api, seller)
    response = browser.submit(
        "/admin/task/new/",
        {
            "title": "Z formularza",
            "type_id": str(types["E-mail"]),
            "responsible_id": str(seller["id"]),
            "priority": "normal",
            "start": "2030-02-01T10:00",
            "end": "2030-02-01T09:00",
            "reminders": "15",
            "object_type": "",
            "due_date": "",
        },
        follow_redirects=True,
    )
    assert (
        "Niektóre wartości są niepoprawne: Koniec: nie może być wcześniej niż początek (1.02.2030, 10:00)"
        in flashed(response)
    )
    assert api.get("/tasks", seller).get_json()["total"] == 0
    response = browser.submit(
        "/admin/task/new/",
        {
            "title": "Z formularza",
            "type_id": str(types["E-mail"]),
            "responsible_id": str(seller["id"]),
            "priority": "high",
            "start": "2030-02-01T10:00",
            "end": "2030-02-01T11:00",
            "reminders": "15, 60",
            "object_type": "",
            "due_date": "",
        },
        follow_redirects=True,
    )
    (task,) = api.get("/tasks", seller).get_json()["items"]
    assert (task["title"], task["priority"], task["reminders"], task["due_date"]) == (
        "Z formularza",
        "high",
        [15, 60],
        "2030-02-01",
    )


def test_completing_shows_the_proposal_ready_to_accept_in_one_step(app, api, admin, seller):
    types = type_ids(api, seller)
    api.patch(f"/task-types/{types['Telefon']}", admin, json={"next_type_ids": [types["Spotkanie"]], "next_delay": 3})
    task = new_task(api, seller)
    browser = logged_in(app, seller)
    response = browser.submit(
        "/admin/task/complete/", {"id": str(task["id"])}, form_url="/admin/task/", follow_redirects=True
    )
    page = flashed(response)
    assert "Spotkanie: Zadzwonić do ACME" in page
    due_day = local_time.today() + dt.timedelta(days=3)
    due = due_day.strftime("%d.%m.%Y")
    assert f'value="{due}"' in page, "the proposed day, the Polish way"
    accepted = browser.submit(
        f"/admin/task/proposals/?id={task['id']}",
        {"accept": "0", "title_0": "Spotkanie: Zadzwonić do ACME", "due_date_0": due},
        follow_redirects=True,
    )
    assert accepted.status_code == 200
    titles = sorted((item["title"], item["due_date"]) for item in api.get("/tasks", seller).get_json()["items"])
    assert ("Spotkanie: Zadzwonić do ACME", due_day.isoformat()) in titles


def test_read_only_tasks_do_not_open_for_editing(app, api, seller, other_seller):
    task = new_task(api, seller)
    api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "read"})
    browser = logged_in(app, other_seller)
    response = browser.get(f"/admin/task/edit/?id={task['id']}", follow_redirects=True)
    assert "Zadzwonić do ACME" in flashed(response)
    token_page = browser.get(f"/admin/task/details/?id={task['id']}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/admin/task/").get_data(as_text=True)
    )
    browser.http.post("/admin/task/delete/", data={"csrf_token": token.group(1), "id": str(task["id"])})
    assert api.get(f"/tasks/{task['id']}", seller).status_code == 200
    assert api.get(f"/tasks/{task['id']}", seller).get_json()["title"] == "Zadzwonić do ACME"


def test_users_share_their_own_tasks_in_the_admin(app, api, seller, other_seller):
    browser = logged_in(app, seller)
    response = browser.submit(
        "/admin/task_sharing/new/",
        {"grantee": str(other_seller["id"]), "level": "read", "task_type": "__None", "owner": str(seller["id"])},
        follow_redirects=True,
    )
    assert response.status_code == 200
    (grant,) = api.get("/task-sharing", seller).get_json()["items"]
    assert (grant["owner_id"], grant["grantee_id"], grant["level"]) == (seller["id"], other_seller["id"], "read")
    refused = browser.submit(
        "/admin/task_sharing/new/",
        {"grantee": str(seller["id"]), "level": "full", "task_type": "__None", "owner": str(other_seller["id"])},
        follow_redirects=True,
    )
    message = flashed(refused)
    assert "Możesz udostępniać tylko własne zadania: Czyje zadania: nie Twoje" in message, message
    assert api.get("/task-sharing", other_seller).get_json()["total"] == 1
    other = logged_in(app, other_seller)
    page = other.text("/admin/task_sharing/")
    managed, received = page.split('id="received-shares"')
    assert "Stefan" not in managed  # others' grants are not among those they manage…
    assert "Stefan Sprzedawca" in received and "tylko do odczytu" in received  # …but shown as shared with them


def test_configuration_is_for_admins(app, api, admin, seller):
    assert logged_in(app, seller).get("/admin/task_types/").status_code == 403
    page = logged_in(app, admin).text("/admin/task_types/")
    assert "Spotkanie online" in page
    statuses = logged_in(app, admin)
    statuses.submit("/admin/task_statuses/switch/", {"statuses_enabled": "1"}, form_url="/admin/task_statuses/")
    assert api.get("/tasks/settings", admin).get_json() == {"statuses_enabled": True}


def test_a_records_page_lists_its_tasks_when_the_core_shows_plugin_sections(app, api, seller):
    company = api.post("/companies", seller, json={"name": "ACME"}).get_json()
    new_task(api, seller, title="Telefon do ACME", object_type="company", object_id=company["id"])
    page = logged_in(app, seller).text(f"/admin/company/details/?id={company['id']}")
    assert "Telefon do ACME" in page
    assert (
        f"/admin/task/new/?object_type=company&amp;object_id={company['id']}" in page
        or f"/admin/task/new/?object_type=company&object_id={company['id']}" in page
    )


def listed_ids(browser, url: str) -> list[int]:
    """The ids of the rows of a list page, in their order."""
    return [int(row_id) for row_id in re.findall(r'name="rowid"[^>]*value="(\d+)"', browser.text(url))]


def test_sorting_and_filtering_the_list_do_not_reveal_what_busy_rows_hide(app, api, seller, other_seller):
    """A free/busy viewer sorting by a hidden column gets busy rows in id order, whatever
    they hide; filtering by "Done" or "Overdue" never matches a busy row."""
    zulu = new_task(api, seller, title="Zulu: przejęcie", priority="low")
    alfa = new_task(api, seller, title="Alfa: zwolnienia", priority="high")
    api.patch(f"/tasks/{zulu['id']}", seller, json={"done": True})
    api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "free_busy"})
    browser = logged_in(app, other_seller)
    assert sorted(listed_ids(browser, "/admin/task/")) == sorted([zulu["id"], alfa["id"]])
    by_id = [zulu["id"], alfa["id"]]
    from opiekun.plugins.tasks.admin.task_view import TaskView

    sortable = [
        TaskView.column_list.index(name) for name in TaskView.column_sortable_list if name in TaskView.column_list
    ]
    assert len(sortable) == 5
    for sort in sortable:
        assert listed_ids(browser, f"/admin/task/?sort={sort}") == by_id, sort
        assert listed_ids(browser, f"/admin/task/?sort={sort}&desc=1") == by_id[::-1], sort
    page = browser.get("/admin/task/").get_data(as_text=True)
    for english, polish in (("Done", "Wykonane"), ("Overdue", "Zaległe")):
        label = english if english in page else polish
        argument = browser.filter_arg("/admin/task/", label)
        for value in ("1", "0"):
            assert listed_ids(browser, f"/admin/task/?flt0_{argument}={value}") == [], (english, value)
    owner = logged_in(app, seller)
    assert listed_ids(owner, "/admin/task/?sort=0") == [alfa["id"], zulu["id"]], "the owner sorts by the titles"
    done_argument = owner.filter_arg("/admin/task/", "Done" if "Done" in page else "Wykonane")
    assert listed_ids(owner, f"/admin/task/?flt0_{done_argument}=1") == [zulu["id"]]


def test_a_new_calendar_link_needs_the_csrf_token(app, seller):
    browser = logged_in(app, seller)
    assert browser.http.post("/admin/task_calendar_link/rotate/").status_code == 400


def test_applying_a_template_refuses_forged_posts_and_unknown_ids_creating_nothing(
    app, api, admin, seller, other_seller
):
    types = {item["name"]: item["id"] for item in api.get("/task-types", admin).get_json()["items"]}
    template = api.post(
        "/task-templates",
        admin,
        json={
            "name": "Powitanie",
            "object_types": ["company"],
            "items": [{"title": "Telefon", "type_id": types["Telefon"], "responsible": "record_owner"}],
        },
    ).get_json()
    firm = api.post("/companies", seller, json={"name": "Stal-Bud"}).get_json()
    colleague = logged_in(app, other_seller)
    token = colleague.csrf_token("/admin/")
    url = f"/admin/task_apply_template/company/{firm['id']}/"
    refused = colleague.http.post(url, data={"csrf_token": token, "template_id": template["id"]}, follow_redirects=True)
    assert "Nie możesz dodawać zadań do tego rekordu (Firma), bo należy do innego użytkownika." in flashed(refused)
    for gone in ("999999", "abc", "\u0661", "\u00b2"):
        answer = colleague.http.post(url, data={"csrf_token": token, "template_id": gone}, follow_redirects=True)
        assert "Ten szablon zadań już nie istnieje" in flashed(answer), gone
    for bad_url, data in (
        (url, {"template_id": template["id"], "responsible_id": str(2**40)}),
        (url, {"template_id": template["id"], "responsible_id": "\u00b2"}),
        ("/admin/task_apply_template/company/999999/", {"template_id": template["id"]}),
        ("/admin/task_apply_template/nosuchtype/1/", {"template_id": template["id"]}),
    ):
        assert colleague.http.post(bad_url, data={"csrf_token": token, **data}).status_code == 404, (bad_url, data)
    listed = api.get("/tasks", admin, query_string={"object_type": "company", "object_id": firm["id"]}).get_json()
    assert listed["items"] == []


def test_a_tasks_time_is_typed_and_shown_on_the_users_clock(app, api, seller):
    """10:00 typed in Warsaw in winter is 09:00 UTC in the API; the form shows 10:00 again,
    and a user in New York sees the same task at 04:00."""
    browser = logged_in(app, seller)
    types = type_ids(api, seller)
    fields = {"title": "Spotkanie", "type_id": str(types["E-mail"]), "responsible_id": str(seller["id"])}
    response = browser.submit(
        "/admin/task/new/",
        {**fields, "priority": "normal", "start": "2030-02-01T10:00", "reminders": "", "object_type": ""},
        form_url="/admin/task/new/",
    )
    assert response.status_code == 302, flashed(response)
    task = api.get("/tasks", seller).get_json()["items"][0]
    assert task["start"].startswith("2030-02-01T09:00") and task["due_date"] == "2030-02-01"
    assert 'value="01.02.2030 10:00"' in browser.text(f"/admin/task/edit/?id={task['id']}")
    api.patch(f"/users/{seller['id']}", seller, json={"time_zone": "America/New_York"})
    assert 'value="01.02.2030 04:00"' in browser.text(f"/admin/task/edit/?id={task['id']}")


def test_a_records_tasks_link_opens_the_list_filtered_to_that_record(app, api, seller):
    first = api.post("/companies", seller, json={"name": "Agro-Tech"}).get_json()
    second = api.post("/companies", seller, json={"name": "Bud-Mar"}).get_json()
    new_task(api, seller, title="Telefon do Agro-Techu", object_type="company", object_id=first["id"])
    new_task(api, seller, title="Telefon do Bud-Maru", object_type="company", object_id=second["id"])
    browser = logged_in(app, seller)
    opened = browser.get(f"/admin/task/on/company/{first['id']}/")
    assert opened.status_code == 302 and "flt0_" in opened.headers["Location"] and "flt1_" in opened.headers["Location"]
    page = browser.text(opened.headers["Location"])
    assert "Telefon do Agro-Techu" in page and "Telefon do Bud-Maru" not in page
