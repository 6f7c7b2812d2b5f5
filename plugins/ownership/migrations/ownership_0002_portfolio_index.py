"""ownership: the user index in the portfolio's order

``ix_ownership_assignments_user`` becomes (user_id, valid_from, id, valid_to): a page of
"portfolio of a user in a period" (newest first: valid_from, id) then walks the index
backwards and stops after its rows, instead of fetching and sorting every period of the
user; the count stays an index-only scan.

Revision ID: ownership_0002
Revises: ownership_0001
Create Date: 2026-11-23

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0002"
down_revision = "ownership_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ownership_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_ownership_assignments_user")
        batch_op.create_index(
            "ix_ownership_assignments_user", ["user_id", "valid_from", "id", "valid_to"], unique=False
        )


def downgrade():
    with op.batch_alter_table("ownership_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_ownership_assignments_user")
        batch_op.create_index("ix_ownership_assignments_user", ["user_id", "valid_from", "valid_to"], unique=False)
