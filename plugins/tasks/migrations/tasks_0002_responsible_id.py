"""tasks: the responsible user is stored as ``responsible_id`` (was ``owner_id``)

The column is renamed in place, with its data; its two indexes take the new name
(``ix_tasks_responsible_id``, ``ix_tasks_responsible_type_due``), and on PostgreSQL its
foreign key to ``users`` too (``fk_tasks_responsible_id_users``).

On SQLite the batch mode must not copy the table: copying drops the old table, and with
foreign keys on (as the app runs) the drop deletes every participant and reminder of the
tasks (``ON DELETE CASCADE``). ``ALTER TABLE … RENAME COLUMN`` renames the column in
place, also inside the foreign key's definition, whose name SQLite keeps as it was.

Revision ID: tasks_0002
Revises: tasks_0001
Create Date: 2026-11-25

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "tasks_0002"
down_revision = "tasks_0001"
branch_labels = None
depends_on = None

#: (column, index by responsible user, type and day) before and after the rename
OWNER = ("owner_id", "ix_tasks_owner_type_due")
RESPONSIBLE = ("responsible_id", "ix_tasks_responsible_type_due")


def _rename(before: tuple[str, str], after: tuple[str, str]) -> None:
    """Rename the column of ``tasks`` named in ``before`` to the one in ``after``, with its
    indexes (and its foreign key where the database names it)."""
    (old, old_index), (new, new_index) = before, after
    with op.batch_alter_table("tasks", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(old_index)
        batch_op.drop_index(f"ix_tasks_{old}")
        batch_op.alter_column(old, new_column_name=new)
        batch_op.create_index(f"ix_tasks_{new}", [new], unique=False)
        batch_op.create_index(new_index, [new, "type_id", "due_date"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tasks RENAME CONSTRAINT fk_tasks_{old}_users TO fk_tasks_{new}_users")


def upgrade():
    _rename(OWNER, RESPONSIBLE)


def downgrade():
    _rename(RESPONSIBLE, OWNER)
