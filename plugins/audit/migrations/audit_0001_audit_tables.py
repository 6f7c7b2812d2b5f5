"""audit tables

The first revision of the audit plugin's own Alembic branch: the history entries, the
head of their hash chain and the per-record-type configuration.

Revision ID: audit_0001
Revises:
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "audit_0001"
down_revision = None
branch_labels = ("audit",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=200), nullable=True),
        sa.Column("job", sa.String(length=200), nullable=True),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("object_name", sa.String(length=500), nullable=True),
        sa.Column("object_url", sa.String(length=500), nullable=True),
        sa.Column("operation", sa.String(length=50), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_entries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_operation"), ["operation"], unique=False)
        batch_op.create_index("ix_audit_entries_object", ["object_type", "object_id", "id"], unique=False)
        batch_op.create_index("ix_audit_entries_user", ["user_id", "id"], unique=False)

    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("settings_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.create_table(
        "audit_type_settings",
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=True),
        sa.Column("excluded_fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("object_type", name=op.f("pk_audit_type_settings")),
    )


def downgrade():
    op.drop_table("audit_type_settings")
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_user")
        batch_op.drop_index("ix_audit_entries_object")
        batch_op.drop_index(batch_op.f("ix_audit_entries_operation"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_at"))

    op.drop_table("audit_entries")
