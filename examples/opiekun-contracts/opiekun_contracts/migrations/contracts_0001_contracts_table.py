"""contracts table

The first revision of the plugin's own Alembic branch: no ``down_revision``, the branch
label ``contracts`` (the plugin's name), and ``depends_on`` the core's first revision,
whose ``companies`` and ``users`` tables it refers to.

Revision ID: contracts_0001
Revises:
Create Date: 2026-11-24

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "contracts_0001"
down_revision = None
branch_labels = ("contracts",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "contracts",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'ended')", name=op.f("ck_contracts_status_allowed")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f("fk_contracts_company_id_companies")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_contracts_created_by_id_users")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_contracts_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_contracts_status_end_date", ["status", "end_date"], unique=False)


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_contracts_status_end_date")
        batch_op.drop_index(batch_op.f("ix_contracts_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_name"))
        batch_op.drop_index(batch_op.f("ix_contracts_company_id"))

    op.drop_table("contracts")
