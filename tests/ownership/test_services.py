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
from opiekun.user_items import TransferRequest
from tests.ownership.support import day


def test_the_migration_creates_exactly_what_the_models_declare(app):
    """Compared table by table for this app's plugins only: other tests of the same process
    may have declared other plugins' models on the shared metadata."""
    with app.app_context(), db.engine.connect() as connection:
        existing = set(db.inspect(connection).get_table_names())

        def this_apps_tables(obj, name, type_, reflected, compare_to):
            table = obj if type_ == "table" else getattr(obj, "table", None)
            return table is None or table.name in existing or table.name.startswith("ownership")

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
