"""searching without case and accents, on trigram indexes (PostgreSQL)

The SQL function ``opiekun_search_text`` (lower case, accents removed: ``unaccent`` when
the server has it) and a trigram index (``pg_trgm``, GIN) on it for every search column of
the core's record types, so ``?q=`` and the panel's search read an index instead of every
row. SQLite gets the function on each connection from the app; it has no such indexes.

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-12-06

"""

from alembic import op

from opiekun.search import create_search_function, create_search_indexes, drop_search_function, drop_search_indexes

# revision identifiers, used by Alembic.
revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None

#: the search columns of the core's record types (``opiekun.core_records``), by table
SEARCHED = {
    "companies": ("name", "tax_id", "city"),
    "persons": ("first_name", "last_name", "email"),
    "leads": ("name",),
    "deals": ("name",),
    "offers": ("name",),
    "invoices": ("number",),
}


def upgrade():
    create_search_function(op)
    for table, columns in SEARCHED.items():
        create_search_indexes(op, table, columns)


def downgrade():
    for table, columns in SEARCHED.items():
        drop_search_indexes(op, table, columns)
    drop_search_function(op)
