"""Tasks as Livespace users know them ("Ustawienia zadań"): task types and statuses an admin
configures, tasks on any record or none, next-task proposals after completion, templates
with delays applied to a record, post-sale templates fired when a deal is won or lost —
and bad input refused with a clear 4xx that changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from opiekun import local_time
from opiekun.extensions import db
from opiekun.models import Setting

DEFAULT_TYPES = ["E-mail", "Telefon", "Oferta", "Projekt", "Spotkanie", "Spotkanie online"]


def types_by_name(api, user) -> dict[str, dict]:
    return {item["name"]: item for item in api.get("/task-types", user).get_json()["items"]}


def create(api, user, path, body, status=201):
    response = api.post(path, user, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def today() -> dt.date:
    return local_time.today()


@pytest.fixture
def company(api, seller):
    return create(api, seller, "/companies", {"name": "ACME sp. z o.o."})


# --- task types and statuses -----------------------------------------------------------------


def test_default_task_types_exist_and_admins_rename_deactivate_and_add(api, admin, seller):
    types = types_by_name(api, seller)
    assert list(types) == DEFAULT_TYPES
    renamed = api.patch(f"/task-types/{types['Oferta']['id']}", admin, json={"name": "Oferta handlowa"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Oferta handlowa"
    assert (
        api.patch(f"/task-types/{types['Projekt']['id']}", admin, json={"active": False}).get_json()["active"] is False
    )
    added = create(api, admin, "/task-types", {"name": "Urlop"})
    assert added["active"] is True and added["next_type_ids"] == []
    assert [item["name"] for item in api.get("/task-types?active=true", seller).get_json()["items"]] == [
        "E-mail",
        "Telefon",
        "Oferta handlowa",
        "Spotkanie",
        "Spotkanie online",
        "Urlop",
    ]
    # a switched-off type takes no new tasks
    refused = api.post("/tasks", seller, json={"title": "x", "type_id": types["Projekt"]["id"]})
    assert refused.status_code == 422 and "type_id" in refused.get_json()["error"]["fields"]


def test_only_admins_configure_types(api, seller, manager):
    assert api.post("/task-types", seller, json={"name": "Urlop"}).status_code == 403
    assert api.post("/task-types", manager, json={"name": "Urlop"}).status_code == 403
    assert "Urlop" not in types_by_name(api, seller)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Telefon"}, "name"),
        ({"name": "X", "next_type_ids": [999999]}, "next_type_ids"),
        ({"name": "X", "next_delay": -1}, "next_delay"),
        ({"name": "X", "next_delay_unit": "years"}, "next_delay_unit"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_task_types_are_refused(api, admin, body, field):
    before = types_by_name(api, admin)
    response = api.post("/task-types", admin, json=body)
    assert response.status_code in (409, 422)
    assert field in response.get_json()["error"]["fields"]
    assert types_by_name(api, admin) == before


def test_statuses_are_optional_renamed_and_added(api, admin, seller):
    statuses = api.get("/task-statuses", seller).get_json()
    assert statuses["statuses_enabled"] is False and len(statuses["items"]) >= 3
    first = statuses["items"][0]
    type_id = types_by_name(api, seller)["E-mail"]["id"]
    off = api.post("/tasks", seller, json={"title": "x", "type_id": type_id, "status_id": first["id"]})
    assert off.status_code == 422 and "status_id" in off.get_json()["error"]["fields"]
    assert api.patch("/tasks/settings", seller, json={"statuses_enabled": True}).status_code == 403
    assert api.patch("/tasks/settings", admin, json={"statuses_enabled": True}).get_json() == {"statuses_enabled": True}
    assert api.get("/tasks/settings", seller).get_json() == {"statuses_enabled": True}
    renamed = api.patch(f"/task-statuses/{first['id']}", admin, json={"name": "Nowe"}).get_json()
    assert renamed["name"] == "Nowe"
    waiting = create(api, admin, "/task-statuses", {"name": "Czeka na klienta"})
    task = create(api, seller, "/tasks", {"title": "Mail", "type_id": type_id, "status_id": waiting["id"]})
    assert task["status_id"] == waiting["id"]
    unknown = api.patch(f"/tasks/{task['id']}", seller, json={"status_id": 999999})
    assert unknown.status_code == 422 and "status_id" in unknown.get_json()["error"]["fields"]


# --- tasks ---------------------------------------------------------------------------------


def test_a_task_on_a_record_with_everything_livespace_has(api, seller, other_seller, company):
    type_id = types_by_name(api, seller)["Spotkanie"]["id"]
    task = create(
        api,
        seller,
        "/tasks",
        {
            "title": "Prezentacja",
            "type_id": type_id,
            "object_type": "company",
            "object_id": company["id"],
            "participant_ids": [other_seller["id"]],
            "start": "2030-05-06T08:00:00+02:00",
            "end": "2030-05-06T09:00:00+02:00",
            "priority": "high",
            "reminders": [1440, 15],
            "private": False,
            "description": "Sala 2",
        },
    )
    assert task["responsible_id"] == seller["id"] and task["created_by_id"] == seller["id"]
    assert task["start"] == "2030-05-06T06:00:00Z" and task["due_date"] == "2030-05-06"
    assert task["reminders"] == [15, 1440] and task["participant_ids"] == [other_seller["id"]]
    on_record = api.get(
        "/tasks", seller, query_string={"object_type": "company", "object_id": company["id"]}
    ).get_json()
    assert [item["id"] for item in on_record["items"]] == [task["id"]]
    loose = create(api, seller, "/tasks", {"title": "Bez rekordu", "type_id": type_id, "due_date": "2030-01-01"})
    assert loose["object_type"] is None and loose["object_id"] is None


@pytest.mark.parametrize("object_type", ["person", "lead", "deal", "offer", "invoice", "contract"])
def test_tasks_go_on_every_record_type(api, seller, pipeline, company, object_type):
    bodies = {
        "person": ("/persons", {"first_name": "Jan", "last_name": "Nowak"}),
        "lead": ("/leads", {"name": "Lead"}),
        "deal": ("/deals", {"name": "Umowa"}),
        "offer": ("/offers", {"name": "Oferta"}),
        "invoice": ("/invoices", {"number": "FV/1/2030"}),
        "contract": (
            "/contracts",
            {"name": "Umowa serwisowa", "company_id": company["id"], "start_date": "2030-01-01"},
        ),
    }
    path, body = bodies[object_type]
    record = api.post(path, seller, json=body)
    if record.status_code == 404:
        pytest.skip(f"{object_type} is not installed")
    record = record.get_json()
    task = create(
        api,
        seller,
        "/tasks",
        {
            "title": "Zadanie",
            "type_id": types_by_name(api, seller)["E-mail"]["id"],
            "object_type": object_type,
            "object_id": record["id"],
        },
    )
    assert (task["object_type"], task["object_id"]) == (object_type, record["id"])


def test_list_filters(api, seller, other_seller, manager, company):
    types = types_by_name(api, seller)
    yesterday, tomorrow = today() - dt.timedelta(days=1), today() + dt.timedelta(days=1)
    late = create(
        api,
        seller,
        "/tasks",
        {"title": "Spóźnione", "type_id": types["Telefon"]["id"], "due_date": yesterday.isoformat()},
    )
    done = create(
        api,
        seller,
        "/tasks",
        {"title": "Zrobione", "type_id": types["Telefon"]["id"], "due_date": yesterday.isoformat(), "done": True},
    )
    soon = create(
        api, seller, "/tasks", {"title": "Jutro", "type_id": types["E-mail"]["id"], "due_date": tomorrow.isoformat()}
    )
    theirs = create(
        api,
        manager,
        "/tasks",
        {
            "title": "Dla Olgi",
            "type_id": types["E-mail"]["id"],
            "responsible_id": other_seller["id"],
            "due_date": tomorrow.isoformat(),
        },
    )

    def ids(**query):
        return sorted(item["id"] for item in api.get("/tasks", seller, query_string=query).get_json()["items"])

    assert ids() == sorted([late["id"], done["id"], soon["id"]])
    assert ids(overdue="true") == [late["id"]]
    assert ids(done="true") == [done["id"]]
    assert ids(type_id=types["E-mail"]["id"]) == [soon["id"]]
    assert ids(due_from=tomorrow.isoformat(), due_to=tomorrow.isoformat()) == [soon["id"]]
    assert ids(responsible_id=str(seller["id"])) == sorted([late["id"], done["id"], soon["id"]])
    assert ids(q="jutro") == [soon["id"]]
    assert api.get("/tasks", other_seller).get_json()["items"][0]["id"] == theirs["id"]


def test_creating_tasks_for_others_needs_the_right(api, seller, other_seller, manager):
    type_id = types_by_name(api, seller)["E-mail"]["id"]
    refused = api.post(
        "/tasks", seller, json={"title": "Dla Olgi", "type_id": type_id, "responsible_id": other_seller["id"]}
    )
    assert refused.status_code == 403
    assert api.get("/tasks", other_seller).get_json()["total"] == 0
    assert (
        api.post(
            "/tasks", manager, json={"title": "Dla Olgi", "type_id": type_id, "responsible_id": other_seller["id"]}
        ).status_code
        == 201
    )
    api.post("/task-sharing", other_seller, json={"grantee_id": seller["id"], "level": "full"})
    assert (
        api.post(
            "/tasks", seller, json={"title": "Od Stefana", "type_id": type_id, "responsible_id": other_seller["id"]}
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type_id": 999999}, "type_id"),
        ({"object_type": "spaceship", "object_id": 1}, "object_type"),
        ({"object_type": "company", "object_id": 999999}, "object_id"),
        ({"object_type": "company"}, "object_id"),
        ({"responsible_id": 999999}, "responsible_id"),
        ({"participant_ids": [999999]}, "participant_ids"),
        ({"start": "2030-01-02T10:00:00Z", "end": "2030-01-02T09:00:00Z"}, "end"),
        ({"end": "2030-01-02T09:00:00Z"}, "end"),
        ({"start": "2030-01-02T10:00:00"}, "start"),
        ({"priority": "urgent"}, "priority"),
        ({"reminders": [-5]}, "reminders.0"),
        ({"reminders": [15, 15]}, "reminders"),
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"participant_ids": list(range(1, 60))}, "participant_ids"),
        ({"private": "yes"}, "private"),
        ({"title": None}, "title"),
        ({"color": "red"}, "color"),
    ],
)
def test_bad_tasks_are_refused_and_nothing_is_saved(api, seller, company, body, field):
    type_id = types_by_name(api, seller)["E-mail"]["id"]
    response = api.post("/tasks", seller, json={"title": "Zadanie", "type_id": type_id, **body})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"], response.get_json()
    assert api.get("/tasks", seller).get_json()["total"] == 0


def test_bad_changes_are_refused_and_nothing_changes(api, seller):
    type_id = types_by_name(api, seller)["E-mail"]["id"]
    task = create(api, seller, "/tasks", {"title": "Zadanie", "type_id": type_id, "start": "2030-01-02T10:00:00Z"})
    for body in (
        {"end": "2030-01-01T10:00:00Z"},
        {"responsible_id": None},
        {"type_id": 999999},
        {"title": "ok", "done": "maybe"},
    ):
        assert api.patch(f"/tasks/{task['id']}", seller, json=body).status_code == 422
    assert api.get(f"/tasks/{task['id']}", seller).get_json() == {**task}
    assert api.get("/tasks/999999", seller).status_code == 404
    assert api.patch("/tasks/999999", seller, json={"title": "x"}).status_code == 404
    assert api.post("/tasks", seller, data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.get("/tasks", seller, query_string={"sort": "password"}).status_code == 422


def test_the_settings_are_kept_as_one_object_whose_unknown_keys_are_ignored(app, api, admin, seller):
    api.patch("/tasks/settings", admin, json={"statuses_enabled": True})
    with app.app_context():
        row = db.session.get(Setting, "tasks.settings")
        assert row.value == {"statuses_enabled": True}
        row.value = {"statuses_enabled": True, "left_by_an_older_version": 1}
        db.session.commit()
    assert api.get("/tasks/settings", seller).get_json() == {"statuses_enabled": True}


@pytest.mark.parametrize(
    "method, path, body, missing",
    [
        ("GET", "/tasks/{id}", None, "no task with id {id}"),
        ("GET", "/task-types/{id}", None, "no task type with id {id}"),
        ("PATCH", "/task-statuses/{id}", {"name": "Wstrzymane"}, "no task status with id {id}"),
        ("GET", "/task-templates/{id}", None, "no task template with id {id}"),
        ("DELETE", "/post-sale-templates/{id}", None, "no post-sale template with id {id}"),
        ("DELETE", "/task-sharing/{id}", None, "no sharing grant with id {id}"),
    ],
)
@pytest.mark.parametrize("missing_id", [999999, 2**31])
def test_what_does_not_exist_answers_404_naming_it(api, admin, method, path, body, missing, missing_id):
    response = api.request(method, path.format(id=missing_id), admin, json=body)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == missing.format(id=missing_id)


def test_a_huge_body_is_refused(api, seller):
    response = api.post("/tasks", seller, json={"title": "x", "type_id": 1, "description": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert api.get("/tasks", seller).get_json()["total"] == 0


def test_deleting_a_task(api, seller):
    task = create(
        api,
        seller,
        "/tasks",
        {
            "title": "Do usunięcia",
            "type_id": types_by_name(api, seller)["E-mail"]["id"],
            "reminders": [10],
            "due_date": "2030-01-01",
        },
    )
    assert api.delete(f"/tasks/{task['id']}", seller).status_code == 204
    assert api.get(f"/tasks/{task['id']}", seller).status_code == 404


def test_tasks_of_a_deleted_record_stay_on_no_record(api, seller, company):
    task = create(
        api,
        seller,
        "/tasks",
        {
            "title": "Telefon",
            "type_id": types_by_name(api, seller)["Telefon"]["id"],
            "object_type": "company",
            "object_id": company["id"],
        },
    )
    assert api.delete(f"/companies/{company['id']}", seller).status_code == 204
    after = api.get(f"/tasks/{task['id']}", seller).get_json()
    assert (after["object_type"], after["object_id"]) == (None, None)


# --- next-task proposals -------------------------------------------------------------------


def test_completing_a_task_proposes_the_next_ones(api, admin, seller, company):
    types = types_by_name(api, seller)
    api.patch(
        f"/task-types/{types['E-mail']['id']}",
        admin,
        json={
            "next_type_ids": [types["Telefon"]["id"], types["Spotkanie"]["id"]],
            "next_delay": 2,
            "next_delay_unit": "days",
        },
    )
    email = create(
        api,
        seller,
        "/tasks",
        {
            "title": "Oferta mailem",
            "type_id": types["E-mail"]["id"],
            "object_type": "company",
            "object_id": company["id"],
        },
    )
    not_yet = api.patch(f"/tasks/{email['id']}", seller, json={"priority": "high"}).get_json()
    assert not_yet["proposed_next"] == []
    done = api.patch(f"/tasks/{email['id']}", seller, json={"done": True})
    assert done.status_code == 200
    proposed = done.get_json()["proposed_next"]
    due = (today() + dt.timedelta(days=2)).isoformat()
    assert proposed == [
        {
            "type_id": types["Telefon"]["id"],
            "type_name": "Telefon",
            "title": "Telefon: Oferta mailem",
            "due_date": due,
            "responsible_id": seller["id"],
            "object_type": "company",
            "object_id": company["id"],
        },
        {
            "type_id": types["Spotkanie"]["id"],
            "type_name": "Spotkanie",
            "title": "Spotkanie: Oferta mailem",
            "due_date": due,
            "responsible_id": seller["id"],
            "object_type": "company",
            "object_id": company["id"],
        },
    ]
    assert api.get("/tasks", seller).get_json()["total"] == 1  # proposed, not created
    accepted = {key: value for key, value in proposed[0].items() if key != "type_name"}
    assert api.post("/tasks", seller, json=accepted).status_code == 201  # accepted in one step
    again = api.patch(f"/tasks/{email['id']}", seller, json={"done": True}).get_json()
    assert again["proposed_next"] == []  # already done: nothing new


def test_trigger_mode_creates_the_next_tasks_at_once_with_delays_in_weeks_or_months(api, admin, seller):
    types = types_by_name(api, seller)
    api.patch(
        f"/task-types/{types['Oferta']['id']}",
        admin,
        json={
            "next_type_ids": [types["Telefon"]["id"]],
            "next_mode": "trigger",
            "next_delay": 1,
            "next_delay_unit": "months",
            "next_delay_from": "due",
        },
    )
    offer = create(
        api, seller, "/tasks", {"title": "Wyślij ofertę", "type_id": types["Oferta"]["id"], "due_date": "2030-01-31"}
    )
    done = api.patch(f"/tasks/{offer['id']}", seller, json={"done": True}).get_json()
    assert done["proposed_next"] == []
    (created,) = done["created_next"]
    assert (created["title"], created["due_date"]) == ("Telefon: Wyślij ofertę", "2030-02-28")
    assert api.get("/tasks", seller).get_json()["total"] == 2


# --- templates -----------------------------------------------------------------------------


def test_a_template_creates_its_tasks_with_due_dates_computed_when_applied(api, admin, seller, other_seller, company):
    types = types_by_name(api, seller)
    template = create(
        api,
        admin,
        "/task-templates",
        {
            "name": "Nowy klient",
            "items": [
                {
                    "title": "Powitalny e-mail",
                    "type_id": types["E-mail"]["id"],
                    "delay_days": 0,
                    "responsible": other_seller["id"],
                },
                {
                    "title": "Telefon kontrolny",
                    "type_id": types["Telefon"]["id"],
                    "delay_days": 7,
                    "responsible": "ask",
                },
                {
                    "title": "Spotkanie",
                    "type_id": types["Spotkanie"]["id"],
                    "delay_days": 30,
                    "responsible": "record_owner",
                },
            ],
        },
    )
    assert template["object_types"] == ["person", "company", "lead", "deal"]
    assert [item["responsible"] for item in template["items"]] == [other_seller["id"], "ask", "record_owner"]
    asked = api.post(
        f"/task-templates/{template['id']}/apply", seller, json={"object_type": "company", "object_id": company["id"]}
    )
    assert asked.status_code == 422 and "responsible_id" in asked.get_json()["error"]["fields"]
    applied = api.post(
        f"/task-templates/{template['id']}/apply",
        seller,
        json={"object_type": "company", "object_id": company["id"], "responsible_id": seller["id"]},
    )
    assert applied.status_code == 201
    tasks = api.get(
        "/tasks", admin, query_string={"object_type": "company", "object_id": company["id"], "sort": "due_date"}
    ).get_json()["items"]
    assert [(task["title"], task["due_date"], task["responsible_id"]) for task in tasks] == [
        ("Powitalny e-mail", today().isoformat(), other_seller["id"]),
        ("Telefon kontrolny", (today() + dt.timedelta(days=7)).isoformat(), seller["id"]),
        ("Spotkanie", (today() + dt.timedelta(days=30)).isoformat(), seller["id"]),
    ]


def test_a_template_gives_the_asked_items_only_to_whom_the_caller_may_give_tasks(
    api, admin, manager, seller, other_seller, company
):
    types = types_by_name(api, seller)
    template = create(
        api,
        admin,
        "/task-templates",
        {
            "name": "Oddzwonienie",
            "items": [{"title": "Telefon", "type_id": types["Telefon"]["id"], "responsible": "ask"}],
        },
    )
    url = f"/task-templates/{template['id']}/apply"
    to_olga = {"object_type": "company", "object_id": company["id"], "responsible_id": other_seller["id"]}
    refused = api.post(url, seller, json=to_olga)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["fields"] == {"responsible_id": "not allowed"}
    listed = api.get("/tasks", admin, query_string={"object_type": "company", "object_id": company["id"]})
    assert listed.get_json()["items"] == [], "nothing was created"
    api.post("/task-sharing", other_seller, json={"grantee_id": seller["id"], "level": "full"})
    assert api.post(url, seller, json=to_olga).status_code == 201, "full access to Olga's tasks is enough"
    assert api.post(url, manager, json=to_olga).status_code == 201, "managers hold tasks.assign"
    tasks = api.get("/tasks", admin, query_string={"object_type": "company", "object_id": company["id"]})
    assert [task["responsible_id"] for task in tasks.get_json()["items"]] == [other_seller["id"]] * 2


def test_templates_refuse_bad_input(api, admin, seller, pipeline):
    types = types_by_name(api, seller)
    item = {"title": "Telefon", "type_id": types["Telefon"]["id"], "delay_days": 1}
    assert api.post("/task-templates", seller, json={"name": "T", "items": [item]}).status_code == 403
    for body, field in [
        ({"name": "T", "items": [{**item, "delay_days": -1}]}, "items.0.delay_days"),
        ({"name": "T", "items": [{**item, "type_id": 999999}]}, "items.0.type_id"),
        ({"name": "T", "items": [{**item, "responsible": 999999}]}, "items.0.responsible"),
        ({"name": "T", "items": [{**item, "responsible": "boss"}]}, "items.0.responsible"),
        ({"name": "T", "items": []}, "items"),
        ({"name": "T", "object_types": ["spaceship"], "items": [item]}, "object_types"),
    ]:
        response = api.post("/task-templates", admin, json=body)
        assert response.status_code == 422, (body, response.get_json())
        fields = {re.sub(r"\.\d+", "", key) for key in response.get_json()["error"]["fields"]}
        assert any(name.startswith(re.sub(r"\.\d+", "", field)) for name in fields), response.get_json()
    assert api.get("/task-templates", admin).get_json()["total"] == 0
    deals_only = create(
        api, admin, "/task-templates", {"name": "Po sprzedaży", "object_types": ["deal"], "items": [item]}
    )
    company = create(api, seller, "/companies", {"name": "Firma"})
    wrong_type = api.post(
        f"/task-templates/{deals_only['id']}/apply", seller, json={"object_type": "company", "object_id": company["id"]}
    )
    assert wrong_type.status_code == 422 and "object_type" in wrong_type.get_json()["error"]["fields"]
    missing = api.post(
        f"/task-templates/{deals_only['id']}/apply", seller, json={"object_type": "deal", "object_id": 999999}
    )
    assert missing.status_code == 422 and "object_id" in missing.get_json()["error"]["fields"]
    assert (
        api.post("/task-templates/999999/apply", seller, json={"object_type": "deal", "object_id": 1}).status_code
        == 404
    )
    assert api.get("/tasks", admin).get_json()["total"] == 0


# --- post-sale templates -------------------------------------------------------------------


def test_post_sale_templates_fire_when_a_deal_is_won_or_lost(api, admin, seller, pipeline):
    types = types_by_name(api, seller)
    won = create(
        api,
        admin,
        "/task-templates",
        {
            "name": "Po wygranej",
            "object_types": ["deal"],
            "items": [
                {
                    "title": "Podziękowanie",
                    "type_id": types["E-mail"]["id"],
                    "delay_days": 1,
                    "responsible": "record_owner",
                },
                {"title": "Cross-selling", "type_id": types["Telefon"]["id"], "delay_days": 90, "responsible": "ask"},
            ],
        },
    )
    lost = create(
        api,
        admin,
        "/task-templates",
        {
            "name": "Po przegranej",
            "object_types": ["deal"],
            "items": [
                {
                    "title": "Wróć do klienta",
                    "type_id": types["Telefon"]["id"],
                    "delay_days": 180,
                    "responsible": "record_owner",
                }
            ],
        },
    )
    create(
        api, admin, "/post-sale-templates", {"pipeline_id": pipeline["id"], "outcome": "won", "template_id": won["id"]}
    )
    create(
        api,
        admin,
        "/post-sale-templates",
        {"pipeline_id": pipeline["id"], "outcome": "lost", "template_id": lost["id"]},
    )
    assert api.get("/post-sale-templates", seller).get_json()["total"] == 2
    deal_won = create(api, seller, "/deals", {"name": "Wygrana", "pipeline_id": pipeline["id"]})
    deal_lost = create(api, seller, "/deals", {"name": "Przegrana", "pipeline_id": pipeline["id"]})
    assert api.post(f"/deals/{deal_won['id']}/win", seller).status_code == 200
    assert api.post(f"/deals/{deal_lost['id']}/lose", seller, json={"reason": "cena"}).status_code == 200
    on_won = api.get(
        "/tasks", seller, query_string={"object_type": "deal", "object_id": deal_won["id"], "sort": "due_date"}
    ).get_json()["items"]
    assert [(task["title"], task["due_date"], task["responsible_id"]) for task in on_won] == [
        ("Podziękowanie", (today() + dt.timedelta(days=1)).isoformat(), seller["id"]),
        ("Cross-selling", (today() + dt.timedelta(days=90)).isoformat(), seller["id"]),
    ]
    on_lost = api.get("/tasks", seller, query_string={"object_type": "deal", "object_id": deal_lost["id"]}).get_json()[
        "items"
    ]
    assert [task["title"] for task in on_lost] == ["Wróć do klienta"]


def test_post_sale_templates_refuse_bad_input(api, admin, seller, pipeline):
    item = {"title": "T", "type_id": types_by_name(api, admin)["E-mail"]["id"], "delay_days": 0}
    companies_only = create(
        api, admin, "/task-templates", {"name": "Firmy", "object_types": ["company"], "items": [item]}
    )
    deals = create(api, admin, "/task-templates", {"name": "Szanse", "object_types": ["deal"], "items": [item]})
    for body, status, field in [
        ({"pipeline_id": pipeline["id"], "outcome": "won", "template_id": companies_only["id"]}, 422, "template_id"),
        ({"pipeline_id": 999999, "outcome": "won", "template_id": deals["id"]}, 422, "pipeline_id"),
        ({"pipeline_id": pipeline["id"], "outcome": "draw", "template_id": deals["id"]}, 422, "outcome"),
    ]:
        response = api.post("/post-sale-templates", admin, json=body)
        assert response.status_code == status and field in response.get_json()["error"]["fields"]
    assert (
        api.post(
            "/post-sale-templates",
            seller,
            json={"pipeline_id": pipeline["id"], "outcome": "won", "template_id": deals["id"]},
        ).status_code
        == 403
    )
    first = create(
        api,
        admin,
        "/post-sale-templates",
        {"pipeline_id": pipeline["id"], "outcome": "won", "template_id": deals["id"]},
    )
    assert (
        api.post(
            "/post-sale-templates",
            admin,
            json={"pipeline_id": pipeline["id"], "outcome": "won", "template_id": deals["id"]},
        ).status_code
        == 409
    )
    assert api.delete(f"/post-sale-templates/{first['id']}", admin).status_code == 204
    assert api.get("/post-sale-templates", admin).get_json()["total"] == 0


def test_every_tasks_route_is_in_the_openapi_document(api):
    paths = api.http.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/tasks/settings",
        "/api/v1/task-types",
        "/api/v1/task-types/{type_id}",
        "/api/v1/task-statuses",
        "/api/v1/task-templates",
        "/api/v1/task-templates/{template_id}/apply",
        "/api/v1/post-sale-templates",
        "/api/v1/task-sharing",
        "/api/v1/task-sharing/{share_id}",
        "/calendar/{user_id}.ics",
    ):
        assert path in paths, path
