"""ownership: the overlap check of primary periods always probes the index

The statement-level trigger of ``ownership_0004`` joins the periods a statement wrote (its
transition table) to the record's other primary periods. The planner chose that join from
the table's statistics; when they were stale, as after loading many records in one
transaction (``opiekun demo``, a test that empties the tables, a bulk change of records
made the same hour), it read the whole table for every period written: 10,000 periods in
15 s, 2,000 in 0.4 s. The check now runs with sequential scans, hash and merge joins off,
so every written period is one probe of ``ix_ownership_assignments_object``: 10,000 in
0.12 s, 50,000 in 0.6 s, whatever the statistics say.

Revision ID: ownership_0007
Revises: ownership_0006
Create Date: 2026-12-07

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0007"
down_revision = "ownership_0006"
branch_labels = None
depends_on = None

CHECK = "ownership_no_overlapping_primary"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":  # SQLite's row trigger probes the index already
        op.execute(
            f"ALTER FUNCTION {CHECK}() SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {CHECK}() RESET ALL")
