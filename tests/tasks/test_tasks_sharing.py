"""Sharing a user's tasks at four levels — none, free/busy, read only, full access — for all
task types or per type (Livespace: "Udostępnianie zadań"), enforced on every surface:
list, read one, edit, delete and the calendar feed. Admins always see everything."""

from __future__ import annotations

import pytest
from icalendar import Calendar

BUSY_KEYS = {"id", "responsible_id", "start", "end", "due_date", "busy", "access"}
FULL_KEYS = {
    "id",
    "title",
    "description",
    "type_id",
    "status_id",
    "object_type",
    "object_id",
    "responsible_id",
    "participant_ids",
    "start",
    "end",
    "due_date",
    "priority",
    "private",
    "reminders",
    "done",
    "done_at",
    "created_by_id",
    "created_at",
    "updated_at",
    "access",
}
LEVELS = ("none", "free_busy", "read", "full")


def type_id(api, user, name):
    types = api.get("/task-types", user).get_json()["items"]
    return next(item["id"] for item in types if item["name"] == name)


def new_task(api, user, **values):
    body = {
        "title": "Spotkanie z zarządem ACME",
        "type_id": type_id(api, user, "Spotkanie"),
        "start": "2030-03-04T09:00:00Z",
        "end": "2030-03-04T10:30:00Z",
        "description": "Budżet 2031",
        **values,
    }
    response = api.post("/tasks", user, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def share(api, owner, grantee, level, task_type_id=None, as_user=None):
    response = api.post(
        "/task-sharing",
        as_user or owner,
        json={"owner_id": owner["id"], "grantee_id": grantee["id"], "level": level, "task_type_id": task_type_id},
    )
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def calendar_token(api, user):
    response = api.get("/tasks/calendar-token", user)
    assert response.status_code == 200
    return response.get_json()["token"]


def feed(api, owner, holder_token):
    return api.http.get(f"/calendar/{owner['id']}.ics", query_string={"token": holder_token})


def events_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return list(Calendar.from_ical(response.data).walk("VEVENT"))


@pytest.fixture
def shared_task(api, seller):
    return new_task(api, seller)


# --- the permission matrix -----------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_list_shows_what_the_level_allows(api, seller, other_seller, shared_task, level):
    share(api, seller, other_seller, level)
    items = api.get("/tasks", other_seller).get_json()["items"]
    if level == "none":
        assert items == []
        return
    (item,) = items
    assert item["id"] == shared_task["id"]
    if level == "free_busy":
        assert set(item) == BUSY_KEYS
        assert item == {
            "id": shared_task["id"],
            "responsible_id": seller["id"],
            "start": "2030-03-04T09:00:00Z",
            "end": "2030-03-04T10:30:00Z",
            "due_date": "2030-03-04",
            "busy": True,
            "access": "free_busy",
        }
    else:
        assert set(item) == FULL_KEYS
        assert item["title"] == "Spotkanie z zarządem ACME" and item["access"] == level


@pytest.mark.parametrize("level", LEVELS)
def test_reading_one_task(api, seller, other_seller, shared_task, level):
    share(api, seller, other_seller, level)
    response = api.get(f"/tasks/{shared_task['id']}", other_seller)
    expected_status = 404 if level == "none" else 200
    assert response.status_code == expected_status
    if level == "free_busy":
        assert set(response.get_json()) == BUSY_KEYS
    elif level in ("read", "full"):
        assert set(response.get_json()) == FULL_KEYS
        assert response.get_json()["description"] == "Budżet 2031"


@pytest.mark.parametrize("level, status", [("none", 404), ("free_busy", 403), ("read", 403), ("full", 200)])
def test_editing_needs_full_access(api, seller, other_seller, shared_task, level, status):
    share(api, seller, other_seller, level)
    response = api.patch(f"/tasks/{shared_task['id']}", other_seller, json={"title": "Zmienione", "priority": "high"})
    assert response.status_code == status, response.get_json()
    after = api.get(f"/tasks/{shared_task['id']}", seller).get_json()
    if status == 200:
        assert after["title"] == "Zmienione" and after["priority"] == "high"
    else:
        assert after["title"] == "Spotkanie z zarządem ACME" and after["priority"] == "normal"
        assert response.get_json()["error"]["code"] == ("not_found" if status == 404 else "forbidden")


@pytest.mark.parametrize("level, status", [("none", 404), ("free_busy", 403), ("read", 403), ("full", 204)])
def test_deleting_needs_full_access(api, seller, other_seller, shared_task, level, status):
    share(api, seller, other_seller, level)
    response = api.delete(f"/tasks/{shared_task['id']}", other_seller)
    assert response.status_code == status
    still_there = api.get(f"/tasks/{shared_task['id']}", seller).status_code == 200
    assert still_there is (status != 204)


@pytest.mark.parametrize("level", LEVELS)
def test_calendar_feed_shows_what_the_level_allows(api, seller, other_seller, shared_task, level):
    share(api, seller, other_seller, level)
    response = feed(api, seller, calendar_token(api, other_seller))
    if level == "none":
        assert response.status_code == 403
        return
    (event,) = events_of(response)
    assert event.decoded("dtstart").isoformat() == "2030-03-04T09:00:00+00:00"
    assert event.decoded("dtend").isoformat() == "2030-03-04T10:30:00+00:00"
    if level == "free_busy":
        assert str(event["summary"]) == "Zajęty"
        assert "description" not in event and "categories" not in event
        assert "ACME" not in response.get_data(as_text=True) and "Budżet" not in response.get_data(as_text=True)
    else:
        assert str(event["summary"]) == "Spotkanie z zarządem ACME"
        assert "Budżet 2031" in str(event["description"])


# --- per type, private tasks, participants, admins -----------------------------------------


def test_a_grant_per_type_wins_over_the_grant_for_all_types(api, seller, other_seller):
    meeting = new_task(api, seller)
    project = new_task(api, seller, title="Projekt wdrożenia", type_id=type_id(api, seller, "Projekt"))
    leave = new_task(api, seller, title="Telefon do klienta", type_id=type_id(api, seller, "Telefon"))
    share(api, seller, other_seller, "read")
    share(api, seller, other_seller, "full", task_type_id=project["type_id"])
    share(api, seller, other_seller, "none", task_type_id=leave["type_id"])
    seen = {item["id"]: item["access"] for item in api.get("/tasks", other_seller).get_json()["items"]}
    assert seen == {meeting["id"]: "read", project["id"]: "full"}
    assert api.patch(f"/tasks/{project['id']}", other_seller, json={"title": "Projekt (zmiana)"}).status_code == 200
    assert api.patch(f"/tasks/{meeting['id']}", other_seller, json={"title": "x"}).status_code == 403
    assert api.get(f"/tasks/{leave['id']}", other_seller).status_code == 404


def test_changing_a_grant_replaces_it_and_withdrawing_it_hides_the_tasks(api, seller, other_seller, shared_task):
    first = share(api, seller, other_seller, "full")
    second = api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "free_busy"})
    assert second.status_code == 200 and second.get_json()["id"] == first["id"]
    assert api.get(f"/tasks/{shared_task['id']}", other_seller).get_json()["access"] == "free_busy"
    assert api.get("/tasks", other_seller).get_json()["total"] == 1
    assert api.delete(f"/task-sharing/{first['id']}", seller).status_code == 204
    assert api.get(f"/tasks/{shared_task['id']}", other_seller).status_code == 404
    assert api.get("/tasks", other_seller).get_json()["total"] == 0, "the list's condition follows the grants"


@pytest.mark.parametrize("level", ("free_busy", "read", "full"))
def test_private_tasks_stay_private(api, seller, other_seller, level):
    private = new_task(api, seller, title="Wizyta u lekarza", private=True)
    share(api, seller, other_seller, level)
    seen = api.get(f"/tasks/{private['id']}", other_seller)
    assert seen.status_code == 200 and set(seen.get_json()) == BUSY_KEYS
    assert api.patch(f"/tasks/{private['id']}", other_seller, json={"title": "x"}).status_code == 403
    assert api.delete(f"/tasks/{private['id']}", other_seller).status_code == 403
    assert "lekarz" not in feed(api, seller, calendar_token(api, other_seller)).get_data(as_text=True)
    assert api.get("/tasks", other_seller, query_string={"q": "lekarz"}).get_json()["total"] == 0


def test_searching_does_not_reveal_what_free_busy_hides(api, seller, other_seller, shared_task):
    share(api, seller, other_seller, "free_busy")
    assert api.get("/tasks", other_seller).get_json()["total"] == 1
    for query in ({"q": "ACME"}, {"type_id": shared_task["type_id"]}, {"priority": "normal"}):
        assert api.get("/tasks", other_seller, query_string=query).get_json()["total"] == 0


def test_participants_read_the_task_they_take_part_in(api, seller, other_seller):
    task = new_task(api, seller, participant_ids=[other_seller["id"]])
    seen = api.get(f"/tasks/{task['id']}", other_seller).get_json()
    assert seen["access"] == "read" and seen["title"] == task["title"]
    assert api.patch(f"/tasks/{task['id']}", other_seller, json={"title": "x"}).status_code == 403


def test_admins_always_see_and_change_everything(api, admin, seller, other_seller):
    private = new_task(api, seller, title="Prywatne", private=True)
    listed = api.get("/tasks", admin).get_json()["items"]
    assert [(item["id"], item["access"], item["title"]) for item in listed] == [(private["id"], "full", "Prywatne")]
    assert api.patch(f"/tasks/{private['id']}", admin, json={"priority": "low"}).status_code == 200
    assert len(events_of(feed(api, seller, calendar_token(api, admin)))) == 1


def test_sharing_is_set_by_the_owner_or_an_admin(api, admin, seller, other_seller, manager):
    refused = api.post(
        "/task-sharing", other_seller, json={"owner_id": seller["id"], "grantee_id": manager["id"], "level": "full"}
    )
    assert refused.status_code == 403
    grant = share(api, seller, other_seller, "read", as_user=admin)
    assert grant["owner_id"] == seller["id"]
    assert [item["id"] for item in api.get("/task-sharing", other_seller).get_json()["items"]] == [grant["id"]]
    assert api.get("/task-sharing", manager).get_json()["items"] == []
    assert api.delete(f"/task-sharing/{grant['id']}", other_seller).status_code == 403
    assert api.delete(f"/task-sharing/{grant['id']}", manager).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"level": "edit"}, "level"),
        ({"level": "read", "task_type_id": 999999}, "task_type_id"),
        ({"level": "read", "grantee_id": 999999}, "grantee_id"),
        ({"level": "read", "grantee_id": "self"}, "grantee_id"),
    ],
)
def test_bad_sharing_requests_change_nothing(api, seller, other_seller, body, field):
    payload = {"grantee_id": other_seller["id"], **body}
    if payload["grantee_id"] == "self":
        payload["grantee_id"] = seller["id"]
    response = api.post("/task-sharing", seller, json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert api.get("/task-sharing", seller).get_json()["total"] == 0


# --- the calendar feed itself --------------------------------------------------------------


def test_calendar_feed_tokens(api, seller, other_seller):
    new_task(api, seller)
    new_task(
        api,
        seller,
        title="Wysłać ofertę",
        type_id=type_id(api, seller, "Oferta"),
        start=None,
        end=None,
        due_date="2030-03-05",
    )
    token = calendar_token(api, seller)
    events = events_of(feed(api, seller, token))
    assert sorted(str(event["summary"]) for event in events) == ["Spotkanie z zarządem ACME", "Wysłać ofertę"]
    all_day = next(event for event in events if str(event["summary"]) == "Wysłać ofertę")
    assert all_day.decoded("dtstart").isoformat() == "2030-03-05"
    assert feed(api, seller, "not-a-token").status_code == 401
    assert feed(api, {"id": 999999}, token).status_code == 404
    assert feed(api, other_seller, token).status_code == 403  # not shared with the holder
    rotated = api.post("/tasks/calendar-token", seller)
    assert rotated.status_code == 200 and rotated.get_json()["token"] != token
    assert feed(api, seller, token).status_code == 401  # the old link stops working
    assert rotated.get_json()["url"].endswith(f"/calendar/{seller['id']}.ics?token={rotated.get_json()['token']}")


def test_the_feed_refuses_api_tokens_in_its_url(api, seller):
    """URLs end up in access logs: an API token there would open the whole API to whoever
    reads them, so the feed takes calendar tokens only."""
    new_task(api, seller)
    api_token = api.token_for(seller)
    refused = feed(api, seller, api_token)
    assert refused.status_code == 401 and "BEGIN:VCALENDAR" not in refused.get_data(as_text=True)
    assert len(events_of(feed(api, seller, calendar_token(api, seller)))) == 1


def test_a_departed_users_calendar_token_stops_working(api, admin, seller):
    token = calendar_token(api, seller)
    assert api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"}).status_code == 200
    assert feed(api, seller, token).status_code == 401


# --- sorting and filtering must not reveal what free/busy hides ------------------------------


def two_busy_tasks(api, seller, other_seller):
    """Two tasks at the same time whose hidden fields sort the other way round than their
    ids: "Zulu", low priority and edited last first; "Alfa", high priority second."""
    zulu = new_task(api, seller, title="Zulu: przejęcie konkurenta", priority="low")
    alfa = new_task(api, seller, title="Alfa: zwolnienia", priority="high")
    api.patch(f"/tasks/{zulu['id']}", seller, json={"description": "zmieniony ostatni", "done": True})
    share(api, seller, other_seller, "free_busy")
    return zulu, alfa


@pytest.mark.parametrize(
    "sort", ["title", "-title", "priority", "-priority", "updated_at", "-updated_at", "done", "-done"]
)
def test_sorting_busy_entries_ignores_what_they_hide(api, seller, other_seller, sort):
    zulu, alfa = two_busy_tasks(api, seller, other_seller)
    listed = api.get("/tasks", other_seller, query_string={"sort": sort})
    assert listed.status_code == 200, listed.get_json()
    ids = [item["id"] for item in listed.get_json()["items"]]
    by_id = [zulu["id"], alfa["id"]]
    assert ids == (by_id[::-1] if sort.startswith("-") else by_id), "busy entries tie: ordered by id alone"
    own = api.get("/tasks", seller, query_string={"sort": "title"}).get_json()["items"]
    assert [item["id"] for item in own] == [alfa["id"], zulu["id"]], "who may read the titles sorts by them"


@pytest.mark.parametrize("query", [{"done": "true"}, {"done": "false"}, {"overdue": "false"}, {"overdue": "true"}])
def test_the_done_and_overdue_filters_never_match_busy_entries(api, seller, other_seller, query):
    two_busy_tasks(api, seller, other_seller)
    new_task(api, seller, title="Zaległy telefon", start=None, end=None, due_date="2020-01-02")
    assert api.get("/tasks", other_seller).get_json()["total"] == 3
    assert api.get("/tasks", other_seller, query_string=query).get_json()["total"] == 0
    expected = {"done=true": 1, "done=false": 2, "overdue=false": 2, "overdue=true": 1}
    key = "&".join(f"{name}={value}" for name, value in query.items())
    assert api.get("/tasks", seller, query_string=query).get_json()["total"] == expected[key], "the owner still filters"
