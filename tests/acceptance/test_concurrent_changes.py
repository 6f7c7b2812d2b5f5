"""Changes that arrive at the same moment, on real threads with connections of their own:
the history of a record still tells the truth (each entry's "before" is the value the
record had), from the API and from the admin form alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from opiekun.changes import Actor, acting_as, update_records
from opiekun.extensions import db
from opiekun.models import Company
from opiekun.testing.clients import logged_in
from tests.audit.history_helpers import changes_of, history

PARALLEL = 16


def at_once(work, arguments) -> list:
    """Run ``work(argument)`` on one thread per argument, all released at the same moment."""
    barrier = threading.Barrier(len(arguments))

    def started(argument):
        barrier.wait()
        return work(argument)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(started, arguments))


def city_changes(api, admin, company_id: int) -> list[tuple]:
    """The (before, after) of the city in the record's update history, oldest first."""
    entries = history(api, admin, object_type="company", object_id=company_id, operation="update")
    return [changes_of(entry)["city"] for entry in reversed(entries)]


def assert_history_is_a_chain(changes: list[tuple], first: str, last: str) -> None:
    """Each change starts from the value the previous one left."""
    previous = first
    for before, after in changes:
        assert before == previous, f"an entry says the city was {before!r}, it was {previous!r}: {changes}"
        previous = after
    assert previous == last


def test_parallel_api_updates_leave_a_truthful_history(app, api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Wyścig", "city": "Miasto 0"}).get_json()
    headers = api.headers(seller)
    cities = [f"Miasto {number}" for number in range(1, PARALLEL + 1)]

    def patch(city: str) -> int:
        response = app.test_client().patch(f"/api/v1/companies/{company['id']}", json={"city": city}, headers=headers)
        return response.status_code

    assert at_once(patch, cities) == [200] * PARALLEL
    final = api.get(f"/companies/{company['id']}", seller).get_json()["city"]
    changes = city_changes(api, admin, company["id"])
    assert len(changes) == PARALLEL
    assert_history_is_a_chain(changes, "Miasto 0", final)
    assert api.get("/audit/verify", admin).get_json()["ok"] is True


def test_parallel_admin_form_saves_leave_a_truthful_history(app, api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Formularz", "city": "Miasto 0"}).get_json()
    edit_url = f"/admin/company/edit/?id={company['id']}"
    cities = [f"Miasto {number}" for number in range(1, 7)]
    browsers = {city: logged_in(app, seller) for city in cities}
    tokens = {city: browsers[city].csrf_token(edit_url) for city in cities}

    def save(city: str) -> int:
        response = browsers[city].http.post(
            edit_url, data={"csrf_token": tokens[city], "name": "Formularz", "city": city, "owner": str(seller["id"])}
        )
        return response.status_code

    assert at_once(save, cities) == [302] * len(cities)
    final = api.get(f"/companies/{company['id']}", seller).get_json()["city"]
    changes = city_changes(api, admin, company["id"])
    assert len(changes) == len(cities)
    assert_history_is_a_chain(changes, "Miasto 0", final)


def test_completing_a_task_twice_at_once_creates_its_next_task_once(app, api, admin, seller):
    types = {item["name"]: item["id"] for item in api.get("/task-types", seller).get_json()["items"]}
    api.patch(
        f"/task-types/{types['Oferta']}", admin, json={"next_type_ids": [types["Telefon"]], "next_mode": "trigger"}
    )
    offer = api.post(
        "/tasks", seller, json={"title": "Wyślij ofertę", "type_id": types["Oferta"], "due_date": "2030-01-31"}
    ).get_json()
    headers = api.headers(seller)

    def complete(_number: int) -> int:
        response = app.test_client().patch(f"/api/v1/tasks/{offer['id']}", json={"done": True}, headers=headers)
        return len(response.get_json()["created_next"])

    assert sorted(at_once(complete, range(6))) == [0, 0, 0, 0, 0, 1]
    assert api.get("/tasks", seller).get_json()["total"] == 2, "one next task, not one per request"


def test_winning_a_deal_twice_at_once_closes_it_once(app, api, admin, seller, pipeline):
    deal = api.post("/deals", seller, json={"name": "Pompy", "stage": "Kontakt"}).get_json()
    headers = api.headers(seller)

    def win(_number: int) -> int:
        return app.test_client().post(f"/api/v1/deals/{deal['id']}/win", headers=headers).status_code

    assert sorted(at_once(win, range(6))) == [200] + [409] * 5
    closings = history(api, admin, object_type="deal", object_id=deal["id"], operation="update")
    assert len(closings) == 1


def test_set_based_changes_racing_with_api_updates_leave_a_truthful_history(app, api, admin, seller):
    """``update_records`` (bulk actions, jobs, offboarding) reads the old values it records
    under the same locks as a form or the API."""
    company = api.post("/companies", seller, json={"name": "Hurt", "city": "Miasto 0"}).get_json()
    headers = api.headers(seller)

    def change(number: int) -> bool:
        city = f"Miasto {number}"
        if number % 2:
            response = app.test_client().patch(
                f"/api/v1/companies/{company['id']}", json={"city": city}, headers=headers
            )
            return response.status_code == 200
        with app.app_context(), acting_as(Actor(job="test")):
            changed = update_records(db.session, Company, Company.id == company["id"], {"city": city})
            db.session.commit()
            return changed == 1

    assert all(at_once(change, range(1, PARALLEL + 1)))
    final = api.get(f"/companies/{company['id']}", seller).get_json()["city"]
    changes = city_changes(api, admin, company["id"])
    assert len(changes) == PARALLEL
    assert_history_is_a_chain(changes, "Miasto 0", final)


def test_undoing_a_transfer_six_times_at_once_undoes_it_once(app, api, admin, seller, other_seller):
    from tests.offboarding.transfer_helpers import TRANSFERS, depart, transfer

    firm = api.post("/companies", seller, json={"name": "Przekazana"}).get_json()
    depart(api, admin, seller)
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    assert state["status"] == "done"
    headers = api.headers(admin)

    def undo(_number: int) -> int:
        return app.test_client().post(f"/api/v1{TRANSFERS}/{state['id']}/undo", headers=headers).status_code

    assert sorted(at_once(undo, range(6))) == [200] + [409] * 5
    assert api.get(f"/companies/{firm['id']}", admin).get_json()["owner_id"] == seller["id"]
    owner_changes = [
        changes_of(entry)["owner_id"]
        for entry in history(api, admin, object_type="company", object_id=firm["id"], operation="update")
    ]
    assert owner_changes == [(other_seller["id"], seller["id"]), (seller["id"], other_seller["id"])], (
        "one transfer and one undo, not one undo per request"
    )
