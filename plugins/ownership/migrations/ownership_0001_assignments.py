"""ownership tables: owner assignments and per-record-type settings

The first revision of the plugin's own branch ``ownership``. On PostgreSQL it also adds
the exclusion constraint that forbids overlapping primary periods of one record (needs
the ``btree_gist`` extension, which ships with PostgreSQL).

Revision ID: ownership_0001
Revises:
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ownership_0001"
down_revision = None
branch_labels = ("ownership",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "ownership_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('primary', 'deputy')", name=op.f("ck_ownership_assignments_kind_allowed")),
        sa.CheckConstraint("access IN ('read', 'write')", name=op.f("ck_ownership_assignments_access_allowed")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_ownership_assignments_period_not_reversed")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_ownership_assignments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ownership_assignments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership_assignments")),
    )
    with op.batch_alter_table("ownership_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ownership_assignments_object", ["object_type", "object_id", "valid_from"], unique=False
        )
        batch_op.create_index("ix_ownership_assignments_user", ["user_id", "valid_from", "valid_to"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE ownership_assignments ADD CONSTRAINT ownership_no_overlapping_primary "
            "EXCLUDE USING gist (object_type WITH =, object_id WITH =, daterange(valid_from, valid_to, '[]') WITH &&) "
            "WHERE (kind = 'primary')"
        )

    op.create_table(
        "ownership_settings",
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("owner_required", sa.Boolean(), nullable=False),
        sa.Column("inactivity_days", sa.Integer(), nullable=True),
        sa.Column("change_roles", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("object_type", name=op.f("pk_ownership_settings")),
    )


def downgrade():
    op.drop_table("ownership_settings")
    with op.batch_alter_table("ownership_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_ownership_assignments_user")
        batch_op.drop_index("ix_ownership_assignments_object")
    op.drop_table("ownership_assignments")
