"""ownership: the "no overlapping primary periods" constraint keyed by object first

The exclusion constraint's GiST index now starts with ``object_id`` (selective) instead of
``object_type`` (a handful of values): every inserted or changed period checks its
neighbours in a few pages instead of many. Measured with bench/offboarding.py (100k
items): ownership's part of a transfer 31–39 s → 11–15 s on PostgreSQL.

Revision ID: ownership_0003
Revises: ownership_0002
Create Date: 2026-11-23

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0003"
down_revision = "ownership_0002"
branch_labels = None
depends_on = None

CONSTRAINT = "ownership_no_overlapping_primary"


def _exclusion(columns: str) -> None:
    op.execute(f"ALTER TABLE ownership_assignments DROP CONSTRAINT {CONSTRAINT}")
    op.execute(
        f"ALTER TABLE ownership_assignments ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist ({columns}, "
        "daterange(valid_from, valid_to, '[]') WITH &&) WHERE (kind = 'primary')"
    )


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _exclusion("object_id WITH =, object_type WITH =")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _exclusion("object_type WITH =, object_id WITH =")
