"""offboarding: what plugins put back themselves on undo

``offboarding_transfers.undo_outcomes``: per record type, kind and outcome, how many of
their own rows (ownership's deputy and planned periods…) the plugins' ``opiekun_undo_transfer``
put back or kept.

Revision ID: offboarding_0002
Revises: offboarding_0001
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "offboarding_0002"
down_revision = "offboarding_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undo_outcomes", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.drop_column("undo_outcomes")
