"""offboarding tables

The first revision of the offboarding plugin's own branch: transfers, their steps and the
items they moved.

Revision ID: offboarding_0001
Revises:
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "offboarding_0001"
down_revision = None
branch_labels = ("offboarding",)
depends_on = "core_0001"

UNDER_WAY = "status IN ('queued', 'running')"


def upgrade():
    op.create_table(
        "offboarding_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("object_types", sa.JSON(), nullable=False),
        sa.Column("include_closed", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("restored", sa.Integer(), nullable=True),
        sa.Column("kept", sa.Integer(), nullable=True),
        sa.CheckConstraint("origin IN ('offboarding', 'list')", name=op.f("ck_offboarding_transfers_origin_allowed")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'undone')",
            name=op.f("ck_offboarding_transfers_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_offboarding_transfers_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_offboarding_transfers_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["users.id"], name=op.f("fk_offboarding_transfers_undone_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offboarding_transfers")),
    )
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_offboarding_transfers_from_user", ["from_user_id", "id"], unique=False)
        batch_op.create_index(
            "ux_offboarding_transfers_under_way",
            ["from_user_id"],
            unique=True,
            sqlite_where=sa.text(UNDER_WAY),
            postgresql_where=sa.text(UNDER_WAY),
        )

    op.create_table(
        "offboarding_transfer_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=False),
        sa.Column("share_take", sa.Integer(), nullable=True),
        sa.Column("share_of", sa.Integer(), nullable=True),
        sa.Column("follow_company", sa.Boolean(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_offboarding_transfer_steps_to_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["offboarding_transfers.id"],
            name=op.f("fk_offboarding_transfer_steps_transfer_id_offboarding_transfers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offboarding_transfer_steps")),
        sa.UniqueConstraint("transfer_id", "position", name=op.f("uq_offboarding_transfer_steps_transfer_id")),
    )
    op.create_table(
        "offboarding_moved_items",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=63), nullable=False),
        sa.Column("object_name", sa.String(length=500), nullable=True),
        sa.Column("old_value", sa.Integer(), nullable=True),
        sa.Column("new_value", sa.Integer(), nullable=True),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('restored', 'deleted', 'reassigned', 'changed')",
            name=op.f("ck_offboarding_moved_items_outcome_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["offboarding_transfers.id"],
            name=op.f("fk_offboarding_moved_items_transfer_id_offboarding_transfers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "transfer_id", "object_type", "object_id", "field", name=op.f("pk_offboarding_moved_items")
        ),
    )


def downgrade():
    op.drop_table("offboarding_moved_items")
    op.drop_table("offboarding_transfer_steps")
    with op.batch_alter_table("offboarding_transfers", schema=None) as batch_op:
        batch_op.drop_index("ux_offboarding_transfers_under_way")
        batch_op.drop_index("ix_offboarding_transfers_from_user")
    op.drop_table("offboarding_transfers")
