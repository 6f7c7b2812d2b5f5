"""The tasks plugin inside the core: task changes reach the change stream, offboarding counts
and moves a departed user's tasks through the "items of a user" hooks, reminders become
notifications, and a deployment without the plugin has no trace of it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select

from opiekun.changes import Actor, acting_as
from opiekun.extensions import db
from opiekun.models import Notification
from opiekun.testing.apps import build_app
from opiekun.testing.clients import ApiClient
from opiekun.testing.plugins import ChangeRecorder
from opiekun.user_items import TransferRequest


@pytest.fixture(scope="module")
def recorder():
    return ChangeRecorder()


@pytest.fixture(scope="module")
def recorded_app(tmp_path_factory, fresh_database, recorder):
    return build_app(tmp_path_factory.mktemp("tasks-recorded"), fresh_database.url(), extra_plugins=[recorder.module])


@pytest.fixture
def client(recorded_app, recorder):
    from opiekun.testing.apps import empty_tables

    recorder.clear()
    yield ApiClient(recorded_app)
    empty_tables(recorded_app)


def test_task_changes_reach_the_change_stream(client, recorder, task_type_ids):
    seller = client.create_user("s@firma.example")
    colleague = client.create_user("c@firma.example")
    types = task_type_ids(client, seller)
    task = client.post(
        "/tasks", seller, json={"title": "Telefon", "type_id": types["Telefon"], "due_date": "2030-01-01"}
    ).get_json()
    recorder.clear()
    response = client.patch(
        f"/tasks/{task['id']}",
        seller,
        json={
            "priority": "high",
            "participant_ids": [colleague["id"]],
            "reminders": [30],
            "title": "Telefon do prezesa",
            "type_id": types["Spotkanie"],
            "start": "2030-01-02T10:00:00Z",
            "private": True,
        },
    )
    assert response.status_code == 200
    updates = recorder.records("update", "task")
    changed = {change.field: (change.old, change.new) for record in updates for change in record.changes}
    assert changed["priority"] == ("normal", "high")
    assert changed["reminders"] == ([], [30])
    assert changed["title"] == ("Telefon", "Telefon do prezesa")
    assert changed["type_id"] == (types["Telefon"], types["Spotkanie"])
    assert changed["start"] == (None, "2030-01-02T10:00:00+00:00")
    assert changed["due_date"] == ("2030-01-01", "2030-01-02")
    assert changed["private"] == (False, True)
    (added,) = recorder.records("participant_added", "task")
    assert added.object_id == task["id"] and added.changes[0].new == colleague["id"]
    actors = {change_set.actor.user_id for change_set in recorder.change_sets}
    assert actors == {seller["id"]}
    recorder.clear()
    client.patch(f"/tasks/{task['id']}", seller, json={"participant_ids": []})
    assert len(recorder.records("participant_removed", "task")) == 1
    client.delete(f"/tasks/{task['id']}", seller)
    (deleted,) = recorder.records("delete", "task")
    assert deleted.object_name == "Telefon do prezesa"


def test_offboarding_counts_and_moves_a_departed_users_tasks(client, recorder, recorded_app, task_type_ids):
    admin = client.create_user("a@firma.example", role="admin")
    leaving = client.create_user("l@firma.example")
    heir = client.create_user("h@firma.example")
    types = task_type_ids(client, leaving)
    for number in range(3):
        client.post(
            "/tasks", leaving, json={"title": f"Zadanie {number}", "type_id": types["E-mail"], "done": number == 0}
        )
    client.patch(f"/users/{leaving['id']}", admin, json={"status": "departed"})
    with recorded_app.app_context(), acting_as(Actor(user_id=admin["id"], user_name="Admin")):
        host = recorded_app.extensions["opiekun.plugins"]
        counts = [item for item in host.user_items(leaving["id"], include_closed=True) if item.object_type == "task"]
        assert [(item.open, item.closed, item.kind) for item in counts] == [(2, 1, "responsible")]
        recorder.clear()
        request = TransferRequest(leaving["id"], heir["id"], frozenset({"task"}), include_closed=False)
        results = [result for result in host.transfer_user_items(db.session, request) if result.object_type == "task"]
        db.session.commit()
        assert [result.moved for result in results] == [2]
        assert ("task", "owner_id") in {(row[0], row[3]) for row in recorder.bulk_rows}
        again = host.transfer_user_items(db.session, TransferRequest(leaving["id"], heir["id"], frozenset({"task"})))
        db.session.commit()
        assert [result.moved for result in again if result.object_type == "task"] == [1]  # the done one; idempotent
    assert client.get("/tasks", heir, query_string={"responsible_id": str(heir["id"])}).get_json()["total"] == 3


def test_reminders_become_notifications_once(client, recorded_app, task_type_ids):
    seller = client.create_user("r@firma.example")
    types = task_type_ids(client, seller)
    client.post(
        "/tasks",
        seller,
        json={
            "title": "Spotkanie",
            "type_id": types["Spotkanie"],
            "start": "2030-01-02T10:00:00Z",
            "reminders": [15, 60],
        },
    )
    with recorded_app.app_context():
        from opiekun.plugins.tasks.jobs import send_reminders

        assert send_reminders(now="2030-01-02T09:00:00+00:00") == {"sent": 1}
        assert send_reminders(now="2030-01-02T09:10:00+00:00") == {"sent": 0}
        assert send_reminders(now="2030-01-02T09:50:00+00:00") == {"sent": 1}
        db.session.commit()
        messages = db.session.scalars(select(Notification.message).where(Notification.user_id == seller["id"])).all()
        assert messages == ["Przypomnienie: Spotkanie", "Przypomnienie: Spotkanie"]


def test_a_deployment_without_tasks_has_no_trace_of_it(tmp_path, fresh_database):
    app = build_app(tmp_path, fresh_database.url(), plugins=())
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert not {name for name in tables if name.startswith("task")}
        assert "task" not in app.extensions["opiekun.record_types"]
        assert not [name for name in app.extensions["opiekun.permissions"] if name.startswith("tasks.")]
        assert "tasks.send_reminders" not in app.extensions["opiekun.jobs"]
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        assert not [rule for rule in rules if "task" in rule or rule.startswith("/calendar")]
        db.engine.dispose()


@pytest.mark.parametrize(
    "day, amount, unit, expected",
    [
        (dt.date(2030, 1, 31), 1, "months", dt.date(2030, 2, 28)),
        (dt.date(2030, 11, 15), 3, "months", dt.date(2031, 2, 15)),
        (dt.date(2030, 1, 1), 2, "weeks", dt.date(2030, 1, 15)),
        (dt.date(2030, 1, 1), 0, "days", dt.date(2030, 1, 1)),
    ],
)
def test_delays_in_days_weeks_and_months(day, amount, unit, expected):
    from opiekun.plugins.tasks.services.next_tasks import add_delay

    assert add_delay(day, amount, unit) == expected
