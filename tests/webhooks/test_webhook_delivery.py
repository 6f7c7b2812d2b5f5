"""Webhooks from an integrator's seat: a real HTTP receiver registered over the API gets
every committed change it asked for, signed, in order, in batches, at least once."""

from __future__ import annotations

import time

from sqlalchemy import func, insert, select

from opiekun.changes import change_context, update_records
from opiekun.extensions import db
from opiekun.models import Company, Notification
from opiekun.plugins.webhooks.models import WebhookDelivery, WebhookEvent
from opiekun.plugins.webhooks.settings import WebhookSettings
from tests.support.webhook_receiver import signature_is_valid
from tests.webhooks.conftest import QUICK, register


def deliveries(api, admin, endpoint_id: int, **query) -> list[dict]:
    response = api.get(f"/webhooks/{endpoint_id}/deliveries", admin, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} never held"
        time.sleep(0.02)
    return result


def test_a_committed_change_arrives_signed_with_who_what_and_when(api, admin, receiver):
    endpoint = register(api, admin, receiver, record_types=["company"])
    company = api.post("/companies", admin, json={"name": "Kowalski sp. z o.o.", "city": "Kraków"}).get_json()
    assert api.patch(f"/companies/{company['id']}", admin, json={"city": "Gdańsk"}).status_code == 200

    created, changed = receiver.wait_for_events(2)

    assert created["type"] == "company.create" and created["record_id"] == company["id"]
    assert {"field": "city", "old": None, "new": "Kraków"} in created["changes"]
    assert changed["type"] == "company.update"
    assert changed["changes"] == [{"field": "city", "old": "Kraków", "new": "Gdańsk"}]
    assert changed["actor"] == {"user_id": admin["id"], "user_name": "Ada Admin", "job": None}
    assert changed["record_name"] == "Kowalski sp. z o.o." and changed["at"].endswith("Z")
    assert created["id"] < changed["id"]
    assert created["context"] == changed["context"] == {}
    for delivery in receiver.accepted:
        header = delivery.headers["Opiekun-Signature"]
        assert signature_is_valid(endpoint["secret"], header, delivery.raw)
        assert not signature_is_valid(endpoint["secret"], header, delivery.raw.replace(b"Gda", b"Gdy"))
        assert not signature_is_valid("whsec_another", header, delivery.raw)
        assert (
            delivery.headers["Idempotency-Key"] == delivery.body["delivery_id"] == delivery.headers["Opiekun-Delivery"]
        )
        assert delivery.body["endpoint_id"] == endpoint["id"]


def test_a_change_that_rolls_back_is_never_sent(app, api, admin, receiver):
    register(api, admin, receiver)
    with app.app_context():
        db.session.add(Company(name="Wycofana"))
        db.session.flush()  # its event is in the outbox, inside the transaction
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        db.session.rollback()
        db.session.remove()
    api.post("/companies", admin, json={"name": "Zapisana"})

    events = receiver.wait_for_events(1)
    time.sleep(0.3)  # a second delivery, if one were coming, has had its time

    assert [event["record_name"] for event in receiver.events()] == ["Zapisana"] == [events[0]["record_name"]]
    with app.app_context():
        assert db.session.scalars(select(WebhookEvent.object_name)).all() == ["Zapisana"]


def test_only_the_record_types_and_operations_asked_for_are_delivered(api, admin, receiver):
    register(api, admin, receiver, record_types=["company"], operations=["delete"])
    kept = api.post("/companies", admin, json={"name": "Zostaje"}).get_json()
    gone = api.post("/companies", admin, json={"name": "Znika"}).get_json()
    api.post("/persons", admin, json={"first_name": "Jan", "last_name": "Nowak"})
    api.patch(f"/companies/{kept['id']}", admin, json={"city": "Łódź"})
    assert api.delete(f"/companies/{gone['id']}", admin).status_code == 204

    (deleted,) = receiver.wait_for_events(1)
    time.sleep(0.3)

    assert deleted["type"] == "company.delete" and deleted["record_id"] == gone["id"]
    assert len(receiver.events()) == 1


def test_failed_deliveries_are_retried_with_the_same_key_and_later_events_wait_their_turn(app, api, admin, receiver):
    endpoint = register(api, admin, receiver)
    receiver.answers = [500, 503]
    company = api.post("/companies", admin, json={"name": "Pierwsza"}).get_json()
    receiver.wait_for_requests(1)
    api.patch(f"/companies/{company['id']}", admin, json={"name": "Druga"})
    api.patch(f"/companies/{company['id']}", admin, json={"name": "Trzecia"})

    events = receiver.wait_for_events(3)

    assert [event["record_name"] for event in events] == ["Pierwsza", "Druga", "Trzecia"]
    assert [event["changes"][0]["old"] for event in events[1:]] == ["Pierwsza", "Druga"]
    first_three = receiver.deliveries[:3]
    assert [delivery.answered for delivery in first_three] == [500, 503, 200]
    assert len({delivery.headers["Idempotency-Key"] for delivery in first_three}) == 1
    assert [event["id"] for event in events] == sorted(event["id"] for event in events)
    log = wait_for(lambda: deliveries(api, admin, endpoint["id"], status="delivered"), what="delivered")
    first = log[-1]
    assert (first["attempts"], first["response_status"], first["last_error"]) == (3, 200, None)
    state = api.get(f"/webhooks/{endpoint['id']}", admin).get_json()
    assert (state["status"], state["failures"]) == ("active", 0)


def test_an_endpoint_that_keeps_failing_is_switched_off_its_admins_told_and_switched_on_it_catches_up(
    app, api, admin, receiver
):
    endpoint = register(api, admin, receiver)
    receiver.answers = [500, 500, 500]
    api.post("/companies", admin, json={"name": "Przed awarią"})

    state = wait_for(
        lambda: (body := api.get(f"/webhooks/{endpoint['id']}", admin).get_json())["status"] == "failing" and body,
        what="switched off",
    )
    assert state["failures"] == 3 and state["last_error"].startswith("HTTP 500")
    api.post("/companies", admin, json={"name": "W czasie awarii"})
    time.sleep(0.3)
    assert receiver.accepted == [] and len(receiver.deliveries) == 3  # switched off: nothing more is tried
    with app.app_context():
        (notice,) = db.session.scalars(select(Notification).where(Notification.kind == "webhooks.endpoint_failing"))
        assert notice.user_id == admin["id"]
        assert "ERP" in notice.message and "3" in notice.message
        db.session.remove()
    failed = deliveries(api, admin, endpoint["id"])
    assert [delivery["status"] for delivery in failed] == ["failed"]

    assert api.patch(f"/webhooks/{endpoint['id']}", admin, json={"status": "active"}).status_code == 200

    events = receiver.wait_for_events(2)
    assert [event["record_name"] for event in events] == ["Przed awarią", "W czasie awarii"]


def test_a_paused_endpoint_gets_nothing_of_its_pause(api, admin, receiver):
    endpoint = register(api, admin, receiver)
    api.patch(f"/webhooks/{endpoint['id']}", admin, json={"status": "paused"})
    api.post("/companies", admin, json={"name": "W czasie pauzy"})
    api.patch(f"/webhooks/{endpoint['id']}", admin, json={"status": "active"})
    api.post("/companies", admin, json={"name": "Po pauzie"})

    receiver.wait_for_events(1)
    time.sleep(0.3)

    assert [event["record_name"] for event in receiver.events()] == ["Po pauzie"]


def test_a_delivered_delivery_is_sent_again_on_request_with_its_key_and_events(api, admin, receiver):
    endpoint = register(api, admin, receiver)
    api.post("/companies", admin, json={"name": "Raz jeszcze"})
    receiver.wait_for_events(1)
    (delivery,) = wait_for(lambda: deliveries(api, admin, endpoint["id"], status="delivered"), what="delivered")

    answer = api.post(f"/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver", admin)

    assert answer.status_code == 202 and answer.get_json() == {"status": "queued"}
    first, again = receiver.wait_for_requests(2)
    assert again.headers["Idempotency-Key"] == first.headers["Idempotency-Key"] == delivery["key"]
    assert again.events == first.events
    logged = wait_for(
        lambda: (rows := deliveries(api, admin, endpoint["id"])) and rows[0]["attempts"] == 2 and rows,
        what="second attempt logged",
    )
    assert logged[0]["status"] == "delivered"


def test_a_set_based_change_of_100k_records_arrives_complete_in_batches_with_its_context(app, api, admin, receiver):
    count = 100_000
    app.config["WEBHOOKS"] = WebhookSettings(**{**QUICK.__dict__, "batch_size": 2000})
    register(api, admin, receiver, record_types=["company"], operations=["update"])
    seller = api.create_user("sprzedawca@firma.example", name="Stefan Sprzedawca")
    with app.app_context():
        db.session.execute(
            insert(Company), [{"name": f"Firma {number}", "owner_id": admin["id"]} for number in range(count)]
        )
        with change_context(transfer_id=77):
            changed = update_records(db.session, Company, Company.owner_id == admin["id"], {"owner_id": seller["id"]})
        db.session.commit()
        db.session.remove()
    assert changed == count

    events = receiver.wait_for_events(count, timeout=120)

    assert len(receiver.accepted) == count // 2000
    assert len({event["id"] for event in events}) == count
    assert sorted(event["record_id"] for event in events) == [event["record_id"] for event in events]
    assert {event["context"]["transfer_id"] for event in events} == {77}
    first = events[0]
    assert first["type"] == "company.update"
    assert first["changes"] == [{"field": "owner_id", "old": admin["id"], "new": seller["id"]}]
    assert first["record_name"] == "Firma 0"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == count // 2000
        db.session.remove()


def test_an_offboarding_transfer_reaches_the_endpoint_with_its_transfer_id(api, admin, seller, other_seller, receiver):
    from tests.offboarding.transfer_helpers import depart, transfer

    for number in range(3):
        api.post("/companies", seller, json={"name": f"Klient {number}"})
    register(api, admin, receiver, record_types=["company"], operations=["update"])
    depart(api, admin, seller)

    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})

    events = receiver.wait_for_events(3)
    assert {event["context"].get("offboarding_transfer_id") for event in events} == {state["id"]}
    assert {(change["field"], change["old"], change["new"]) for event in events for change in event["changes"]} >= {
        ("owner_id", seller["id"], other_seller["id"])
    }
    assert sorted(event["record_name"] for event in events) == ["Klient 0", "Klient 1", "Klient 2"]


def test_concurrent_changes_arrive_in_the_order_they_committed(app, api, admin, receiver):
    """Many writers at once: the ids the receiver sees grow, and every change arrives once
    (on PostgreSQL the outbox lock makes commit order the id order)."""
    import threading

    register(api, admin, receiver, record_types=["company"])
    companies = [api.post("/companies", admin, json={"name": f"Firma {number}"}).get_json() for number in range(4)]
    receiver.wait_for_events(4)

    def edit(company: dict) -> None:
        for round_number in range(10):
            response = api.patch(f"/companies/{company['id']}", admin, json={"city": f"Miasto {round_number}"})
            assert response.status_code == 200, response.get_json()

    writers = [threading.Thread(target=edit, args=(company,)) for company in companies]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()

    events = receiver.wait_for_events(4 + 40)
    ids = [event["id"] for event in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 44
    for company in companies:
        cities = [event["changes"][0]["new"] for event in events if event["record_id"] == company["id"]][1:]
        assert cities == [f"Miasto {number}" for number in range(10)]
