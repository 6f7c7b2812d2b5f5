"""offboarding: undo's counts from the items themselves

``offboarding_transfers.undo_outcomes`` goes: the plugins now list the items of their own
a transfer moved, each with its outcome after undo (``opiekun_moved_items``), and the
counts per type, kind and outcome are taken from that list.

Revision ID: offboarding_0003
Revises: offboarding_0002
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "offboarding_0003"
down_revision = "offboarding_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.drop_column("undo_outcomes")


def downgrade():
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undo_outcomes", sa.JSON(), nullable=True))
