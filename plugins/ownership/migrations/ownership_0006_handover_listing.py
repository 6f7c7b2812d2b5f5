"""ownership: hand-overs listed with a transfer's items; vanished periods made again

``ownership_handovers.object_name`` and ``moved_at``: the record's name and the moment of
the hand-over, so that offboarding lists the periods a transfer handed over or ended (and,
after undo, those kept and why) next to the record fields it moved. Rows written before
stay without them. ``vanished``, ``role`` and ``access``: a deputy period the transfer
ended on the day it began is deleted (a period cannot end before it begins); these keep
what undo needs to make it again.

Revision ID: ownership_0006
Revises: ownership_0005
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0006"
down_revision = "ownership_0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ownership_handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("vanished", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("role", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("access", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("ownership_handovers", schema=None) as batch_op:
        batch_op.drop_column("access")
        batch_op.drop_column("role")
        batch_op.drop_column("vanished")
        batch_op.drop_column("moved_at")
        batch_op.drop_column("object_name")
