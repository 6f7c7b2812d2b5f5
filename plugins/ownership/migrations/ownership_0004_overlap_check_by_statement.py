"""ownership: no overlapping primary periods, checked per statement on a btree

The GiST exclusion constraint cost ~28 µs per period written (an index insertion and an
overlap probe for every row, also for the UPDATE that only ends a period): 5.6 s of a 100k
item transfer (bench/offboarding.py). It is replaced by

* ``ux_ownership_one_open_primary``: a unique partial btree index, at most one open-ended
  primary period per record — the case two concurrent owner changes would race on;
* the check ``ownership_no_overlapping_primary`` of every written primary period against
  the record's other primary periods, through ``ix_ownership_assignments_object``: on
  PostgreSQL one statement-level trigger per INSERT / UPDATE (transition table, one
  set-based query per statement), on SQLite a row trigger (SQLite has no statement
  triggers; every row is one index probe). Both raise an error naming the check.

Concurrent writers of bounded periods of the same record are serialized by the services,
which lock the records' rows first (SQLite serializes writers anyway). A later SQLite
migration that copies this table (``batch_alter_table`` recreating it) must create the two
triggers again.

Revision ID: ownership_0004
Revises: ownership_0003
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0004"
down_revision = "ownership_0003"
branch_labels = None
depends_on = None

CHECK = "ownership_no_overlapping_primary"
OPEN_PRIMARY = "kind = 'primary' AND valid_to IS NULL"

POSTGRESQL_CHECK = f"""
CREATE FUNCTION {CHECK}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clash record;
BEGIN
    SELECT written.id AS written_id, other.id AS other_id, written.object_type, written.object_id INTO clash
    FROM written_rows AS written
    JOIN ownership_assignments AS other
      ON other.object_type = written.object_type AND other.object_id = written.object_id
     AND other.kind = 'primary' AND other.id <> written.id
     AND other.valid_from <= coalesce(written.valid_to, 'infinity')
     AND coalesce(other.valid_to, 'infinity') >= written.valid_from
    WHERE written.kind = 'primary'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '{CHECK}: primary periods % and % of % % overlap',
            clash.written_id, clash.other_id, clash.object_type, clash.object_id
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _sqlite_trigger(event: str) -> str:
    return f"""
CREATE TRIGGER {CHECK}_{event.lower()} AFTER {event} ON ownership_assignments
WHEN NEW.kind = 'primary'
BEGIN
    SELECT RAISE(ABORT, '{CHECK}: primary periods of one record overlap')
    WHERE EXISTS (
        SELECT 1 FROM ownership_assignments AS other
        WHERE other.object_type = NEW.object_type AND other.object_id = NEW.object_id
          AND other.kind = 'primary' AND other.id <> NEW.id
          AND other.valid_from <= coalesce(NEW.valid_to, '9999-12-31')
          AND coalesce(other.valid_to, '9999-12-31') >= NEW.valid_from);
END
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE ownership_assignments DROP CONSTRAINT {CHECK}")
        op.execute(POSTGRESQL_CHECK)
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {CHECK}_{event.lower()} AFTER {event} ON ownership_assignments "
                f"REFERENCING NEW TABLE AS written_rows FOR EACH STATEMENT EXECUTE FUNCTION {CHECK}()"
            )
    elif dialect == "sqlite":
        op.execute(_sqlite_trigger("INSERT"))
        op.execute(_sqlite_trigger("UPDATE"))
    # not in a batch: on SQLite a batch may copy the table, which would drop its triggers
    op.create_index(
        "ux_ownership_one_open_primary",
        "ownership_assignments",
        ["object_type", "object_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_PRIMARY),
        postgresql_where=sa.text(OPEN_PRIMARY),
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index("ux_ownership_one_open_primary", "ownership_assignments")
    for event in ("insert", "update"):
        op.execute(
            f"DROP TRIGGER IF EXISTS {CHECK}_{event}" + (" ON ownership_assignments" if dialect == "postgresql" else "")
        )
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION {CHECK}()")
        op.execute(
            f"ALTER TABLE ownership_assignments ADD CONSTRAINT {CHECK} EXCLUDE USING gist (object_id WITH =, "
            "object_type WITH =, daterange(valid_from, valid_to, '[]') WITH &&) WHERE (kind = 'primary')"
        )
