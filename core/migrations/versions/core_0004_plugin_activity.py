"""when each plugin was on and off, and the gaps its data caught up with

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plugin_activity",
        sa.Column("plugin", sa.String(length=50), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plugin", name=op.f("pk_plugin_activity")),
    )
    op.create_table(
        "plugin_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=50), nullable=False),
        sa.Column("off_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("off_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plugin_gaps")),
    )
    with op.batch_alter_table("plugin_gaps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plugin_gaps_plugin"), ["plugin"], unique=False)


def downgrade():
    with op.batch_alter_table("plugin_gaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plugin_gaps_plugin"))
    op.drop_table("plugin_gaps")
    op.drop_table("plugin_activity")
