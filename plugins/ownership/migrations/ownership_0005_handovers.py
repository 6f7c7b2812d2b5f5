"""ownership: the periods a transfer handed over, for undo

``ownership_handovers``: one row per deputy or planned primary period that a transfer
(offboarding) gave to another user, and per other user's deputy period it ended, keyed by
the transfer's id; undo hands back (or re-opens) those that did not change since.

Revision ID: ownership_0005
Revises: ownership_0004
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0005"
down_revision = "ownership_0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ownership_handovers",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("previous_valid_to", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('restored', 'deleted', 'reassigned', 'changed')",
            name=op.f("ck_ownership_handovers_outcome_allowed"),
        ),
        sa.ForeignKeyConstraint(["from_user_id"], ["users.id"], name=op.f("fk_ownership_handovers_from_user_id_users")),
        sa.ForeignKeyConstraint(["to_user_id"], ["users.id"], name=op.f("fk_ownership_handovers_to_user_id_users")),
        sa.PrimaryKeyConstraint("transfer_id", "period_id", name=op.f("pk_ownership_handovers")),
    )


def downgrade():
    op.drop_table("ownership_handovers")
