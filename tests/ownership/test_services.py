"""Ownership's services below the API: the schema matches the migrations, records that
existed before the plugin get their first period, and owner changes made by other code
(offboarding's set-based transfer) keep the history."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from opiekun.changes import Actor, acting_as
from opiekun.extensions import db
from opiekun.models import Company
from opiekun.plugins.ownership import sync
from opiekun.plugins.ownership.models import OwnerAssignment
from opiekun.search import not_a_search_index
from opiekun.user_items import TransferRequest
from tests.ownership.support import day


def test_the_migration_creates_exactly_what_the_models_declare(app):
    """Compared table by table for this app's plugins only: other tests of the same process
    may have declared other plugins' models on the shared metadata."""
    with app.app_context(), db.engine.connect() as connection:
        existing = set(db.inspect(connection).get_table_names())

        def this_apps_tables(obj, name, type_, reflected, compare_to):
            table = obj if type_ == "table" else getattr(obj, "table", None)
            kept = table is None or table.name in existing or table.name.startswith("ownership")
            return kept and not_a_search_index(obj, name, type_, reflected, compare_to)

        options = {"compare_type": True, "include_object": this_apps_tables}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, db.metadata) == []


def test_records_from_before_the_plugin_get_a_period_from_their_creation_day(app, api, seller):
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO companies (name, owner_id, created_at, updated_at) "
                f"VALUES ('Stara', {seller['id']}, '2024-03-05 10:00:00', '2024-03-05 10:00:00')"
            )
        )
        db.session.commit()
        assert sync.apply_periods()["company"] == 0, "owner already right: nothing to change"
        db.session.commit()
        [period] = db.session.scalars(select(OwnerAssignment)).all()
        assert (period.user_id, period.valid_from.isoformat(), period.valid_to) == (seller["id"], "2024-03-05", None)


def test_a_set_based_transfer_by_other_code_keeps_the_history(app, api, seller, other_seller):
    ids = [api.post("/companies", seller, json={"name": f"F{n}"}).get_json()["id"] for n in range(3)]
    with app.app_context():
        db.session.execute(text(f"UPDATE ownership_assignments SET valid_from = '{day(-100)}'"))
        db.session.commit()
        with acting_as(Actor(job="offboarding")):
            host = app.extensions["opiekun.plugins"]
            host.transfer_user_items(
                db.session, TransferRequest(seller["id"], other_seller["id"], frozenset({"company"}))
            )
            db.session.commit()
        assert {firm.owner_id for firm in db.session.scalars(select(Company))} == {other_seller["id"]}
        rows = db.session.execute(
            select(
                OwnerAssignment.object_id, OwnerAssignment.user_id, OwnerAssignment.valid_from, OwnerAssignment.valid_to
            ).order_by(OwnerAssignment.object_id, OwnerAssignment.valid_from)
        ).all()
        expected = []
        for object_id in ids:
            expected += [(object_id, seller["id"], day(-100), day(-1)), (object_id, other_seller["id"], day(), None)]
        assert [(r[0], r[1], r[2].isoformat(), r[3].isoformat() if r[3] else None) for r in rows] == expected


def test_back_from_a_time_off_planned_changes_apply_and_owners_given_meanwhile_keep_their_records(
    app, api, seller, other_seller
):
    """Off for five days: a change planned for three days ago takes effect; an owner given
    by hand meanwhile gets a period from today; a deleted record's periods go; a record
    created meanwhile gets its first period. A second run changes nothing."""
    import datetime as dt

    from opiekun.models import PluginGap, utcnow
    from opiekun.plugins.ownership.catch_up import catch_up

    long_ago = utcnow() - dt.timedelta(days=20)

    def company(name: str, owner: dict) -> int:
        return db.session.execute(
            text(
                "INSERT INTO companies (name, owner_id, created_at, updated_at) "
                "VALUES (:name, :owner, :at, :at) RETURNING id"
            ),
            {"name": name, "owner": owner["id"], "at": long_ago},
        ).scalar_one()

    def period(object_id: int, user: dict, valid_from: str, valid_to: str | None = None) -> None:
        db.session.execute(
            text(
                "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, "
                "valid_to, access, created_at) VALUES ('company', :id, :user, 'primary', 'owner', :start, :end, "
                "'write', :at)"
            ),
            {"id": object_id, "user": user["id"], "start": valid_from, "end": valid_to, "at": utcnow()},
        )

    def periods(object_id: int) -> list[tuple]:
        rows = db.session.execute(
            select(OwnerAssignment.user_id, OwnerAssignment.valid_from, OwnerAssignment.valid_to)
            .where(OwnerAssignment.object_id == object_id, OwnerAssignment.object_type == "company")
            .order_by(OwnerAssignment.valid_from)
        )
        return [(user_id, start.isoformat(), end.isoformat() if end else None) for user_id, start, end in rows]

    with app.app_context():
        planned = company("Planowana", seller)
        period(planned, seller, day(-10), day(-3))
        period(planned, other_seller, day(-2))
        given = company("Przekazana ręcznie", seller)
        period(given, seller, day(-10))
        db.session.execute(
            text("UPDATE companies SET owner_id = :owner WHERE id = :id"), {"owner": other_seller["id"], "id": given}
        )
        period(999_999, seller, day(-10))  # a company deleted while the plugin was off
        created = company("Nowa", seller)
        db.session.commit()

        gap = PluginGap(plugin="ownership", off_from=utcnow() - dt.timedelta(days=5), off_until=utcnow())
        with acting_as(Actor(job="opiekun init")):
            lines = [str(line) for line in catch_up(db.session, gap)]
        db.session.commit()
        assert lines == [
            "1 owner period of records deleted meanwhile removed",
            "1 record was given another owner meanwhile: that owner's period starts today",
            "1 record created meanwhile got its first owner period",
            "1 record took the owner its periods name (changes planned for the time off)",
        ]
        assert db.session.get(Company, planned).owner_id == other_seller["id"]
        assert periods(given) == [(seller["id"], day(-10), day(-1)), (other_seller["id"], day(0), None)]
        assert db.session.get(Company, given).owner_id == other_seller["id"]
        assert periods(999_999) == []
        assert periods(created) == [(seller["id"], long_ago.date().isoformat(), None)]

        with acting_as(Actor(job="opiekun init")):
            again = [str(line) for line in catch_up(db.session, gap)]
        db.session.commit()
        assert again == [], "a second run finds nothing to do"
