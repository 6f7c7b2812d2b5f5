"""tasks: a trigram index on the searched title (PostgreSQL)

``?q=`` and the panel's search find tasks by their title, case and accents aside, through
an index instead of reading every task (see ``opiekun.search``).

Revision ID: tasks_0003
Revises: tasks_0002
Create Date: 2026-12-06

"""

from alembic import op

from opiekun.plugin import create_search_indexes, drop_search_indexes

# revision identifiers, used by Alembic.
revision = "tasks_0003"
down_revision = "tasks_0002"
branch_labels = None
depends_on = "core_0005"


def upgrade():
    create_search_indexes(op, "tasks", ["title"])


def downgrade():
    drop_search_indexes(op, "tasks", ["title"])
