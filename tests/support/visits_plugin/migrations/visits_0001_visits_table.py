"""visits table

Revision ID: visits_0001
Revises:
Create Date: 2026-12-06

"""

import sqlalchemy as sa
from alembic import op

revision = "visits_0001"
down_revision = None
branch_labels = ("visits",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "visits",
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_visits_created_by_id_users")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_visits_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "visit_plans",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_visit_plans_company_id_companies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_visit_plans")),
    )


def downgrade():
    op.drop_table("visit_plans")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_owner_id"))
    op.drop_table("visits")
