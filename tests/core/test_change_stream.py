"""The change stream: every create, update, delete and bulk change reaches the
records-changed hook, inside the transaction, with old/new values and the actor."""

import pytest
from sqlalchemy import insert, select

from opiekun.changes import Actor, acting_as, change_context, update_records
from opiekun.extensions import db
from opiekun.models import Company, Setting
from opiekun.testing.apps import build_app, empty_tables
from opiekun.testing.clients import ApiClient
from opiekun.testing.plugins import ChangeRecorder, make_plugin

recorder = ChangeRecorder()


def _persist_events(session, change_set):
    """A plugin that writes one row per event in the same transaction (like audit does)."""
    for change in change_set.records:
        session.execute(
            insert(Setting).values(key=f"event.{change.operation}.{change.object_type}.{change.object_id}", value=True)
        )


persisting = make_plugin("persisting", opiekun_records_changed=_persist_events)


@pytest.fixture(scope="module")
def app(tmp_path_factory, fresh_database):
    application = build_app(
        tmp_path_factory.mktemp("changes"), fresh_database.url(), extra_plugins=[recorder.module, persisting]
    )
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def fresh_state(app):
    recorder.clear()
    yield
    empty_tables(app)


@pytest.fixture
def api(app):
    return ApiClient(app)


def events_saved(app):
    with app.app_context():
        return sorted(db.session.scalars(select(Setting.key).where(Setting.key.like("event.%"))))


def test_create_update_delete_carry_fields_and_the_acting_user(api, seller):
    company = api.post("/companies", seller, json={"name": "Stal-Bud", "city": "Kraków"}).get_json()
    created = recorder.records("create", "company")
    assert len(created) == 1
    assert created[0].object_id == company["id"] and created[0].object_name == "Stal-Bud"
    fields = {change.field: (change.old, change.new) for change in created[0].changes}
    assert fields["name"] == (None, "Stal-Bud") and fields["city"] == (None, "Kraków")
    assert fields["owner_id"] == (None, seller["id"])
    assert recorder.change_sets[-1].actor.user_id == seller["id"]

    api.patch(f"/companies/{company['id']}", seller, json={"city": "Gdańsk", "name": "Stal-Bud"})
    [updated] = recorder.records("update", "company")
    assert [(c.field, c.old, c.new) for c in updated.changes] == [("city", "Kraków", "Gdańsk")], (
        "unchanged fields are not events"
    )

    api.delete(f"/companies/{company['id']}", seller)
    [deleted] = recorder.records("delete", "company")
    assert ("name", "Stal-Bud", None) in [(c.field, c.old, c.new) for c in deleted.changes]
    assert events_saved(api.app) == [
        f"event.create.company.{company['id']}",
        f"event.delete.company.{company['id']}",
        f"event.update.company.{company['id']}",
    ]


def test_a_rolled_back_change_leaves_no_events_and_a_committed_one_always_has_them(app):
    with app.app_context():
        db.session.add(Company(name="Wycofana"))
        db.session.flush()
        db.session.rollback()
        db.session.add(Company(name="Zapisana"))
        db.session.commit()
    assert [key.rsplit(".", 1)[0] for key in events_saved(app)] == ["event.create.company"]


def test_a_refused_api_request_changes_nothing_and_leaves_no_events(api, seller):
    response = api.post("/companies", seller, json={"name": "X", "owner_id": 999999})
    assert response.status_code == 422
    assert events_saved(api.app) == []
    assert api.get("/companies", seller).get_json()["total"] == 0


def test_a_failing_hook_rolls_the_whole_change_back(tmp_path, fresh_database):
    def refuse(session, change_set):
        raise RuntimeError("audit storage is full")

    strict_app = build_app(
        tmp_path, fresh_database.url(), extra_plugins=[make_plugin("strict", opiekun_records_changed=refuse)]
    )
    with strict_app.app_context():
        db.session.add(Company(name="Nie powinna zostać"))
        with pytest.raises(RuntimeError, match="audit storage is full"):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(Company.id)) is None
        db.engine.dispose()


def test_bulk_update_emits_one_set_based_change_with_old_and_new_values(app, api, seller, other_seller):
    ids = [api.post("/companies", seller, json={"name": f"Firma {n}"}).get_json()["id"] for n in range(5)]
    api.post("/companies", other_seller, json={"name": "Cudza"})
    recorder.clear()
    with app.app_context(), acting_as(Actor(job="bulk-test")), change_context(transfer_id=7):
        moved = update_records(db.session, Company, Company.owner_id == seller["id"], {"owner_id": other_seller["id"]})
        db.session.commit()
    assert moved == 5
    [change_set] = recorder.change_sets
    [bulk] = change_set.bulk
    assert bulk.object_type == "company" and bulk.count == 5 and bulk.operation == "update"
    assert change_set.actor.job == "bulk-test" and change_set.context["transfer_id"] == 7
    assert sorted(row[1] for row in recorder.bulk_rows) == sorted(ids)
    assert {(row[3], row[4], row[5]) for row in recorder.bulk_rows} == {
        ("owner_id", str(seller["id"]), str(other_seller["id"]))
    }
    listed = api.get(f"/companies?owner_id={other_seller['id']}", other_seller).get_json()
    assert listed["total"] == 6

    recorder.clear()
    with app.app_context():
        again = update_records(
            db.session, Company, Company.owner_id == other_seller["id"], {"owner_id": other_seller["id"]}
        )
        db.session.commit()
    assert again == 0 and recorder.change_sets == [], "rows already holding the value are not changes"


def test_a_record_batch_announces_its_records_as_one_set_based_change(app, api, seller, other_seller):
    """The helper behind a plugin's own set-based events: a temporary table of records,
    filled and trimmed in SQL, handed to the hook as one BulkChange with the old values."""
    from sqlalchemy import Integer

    from opiekun.changes import RecordBatch

    ids = [api.post("/companies", seller, json={"name": f"Firma {n}"}).get_json()["id"] for n in range(3)]
    recorder.clear()
    with app.app_context(), acting_as(Actor(user_id=seller["id"], user_name="Stefan")), change_context(reason="test"):
        with RecordBatch(db.session, {"user_id": Integer}) as batch:
            assert batch.add_records(Company, Company.id.in_(ids)) == 3
            assert batch.discard(batch.table.c.object_id == ids[0]) == 1
            assert sorted(db.session.scalars(batch.ids)) == sorted(ids[1:])
            assert batch.announce("company", "owner_assigned", {"user_id": other_seller["id"]}) == 2
        db.session.commit()
    (change_set,) = recorder.change_sets
    assert change_set.actor.user_name == "Stefan" and change_set.context == {"reason": "test"}
    (bulk,) = change_set.bulk
    assert (bulk.object_type, bulk.operation, bulk.count) == ("company", "owner_assigned", 2)
    assert sorted(row[1:] for row in recorder.bulk_rows) == sorted(
        (company_id, f"Firma {n}", "user_id", None, str(other_seller["id"])) for n, company_id in enumerate(ids) if n
    )


def test_an_empty_record_batch_announces_nothing(app):
    from opiekun.changes import RecordBatch

    with app.app_context():
        with RecordBatch(db.session) as batch:
            assert batch.add_records(Company, Company.id.in_([])) == 0
            assert batch.announce("company", "owner_assigned", {"owner_id": 1}) == 0
        db.session.rollback()
    assert recorder.change_sets == []
