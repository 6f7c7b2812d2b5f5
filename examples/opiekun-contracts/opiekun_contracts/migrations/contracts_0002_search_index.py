"""contracts: a trigram index on the searched name (PostgreSQL)

A record type's search columns get an index in the type's own migration, so ``?q=``
reads the index, not every contract (``create_search_indexes``; nothing on SQLite).

Revision ID: contracts_0002
Revises: contracts_0001
Create Date: 2026-12-06

"""

from alembic import op

from opiekun.plugin import create_search_indexes, drop_search_indexes

# revision identifiers, used by Alembic.
revision = "contracts_0002"
down_revision = "contracts_0001"
branch_labels = None
depends_on = "core_0005"


def upgrade():
    create_search_indexes(op, "contracts", ["name"])


def downgrade():
    drop_search_indexes(op, "contracts", ["name"])
