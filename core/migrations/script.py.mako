<%!
    def literal(value):
        """A revision id, label or list of them as Python the way ruff formats it."""
        if value is None:
            return "None"
        if isinstance(value, str):
            return '"%s"' % value
        return "(%s,)" % ", ".join('"%s"' % item for item in value) if len(value) == 1 else "(%s)" % ", ".join('"%s"' % item for item in value)
%>"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
# revision identifiers, used by Alembic.
revision = ${literal(up_revision)}
down_revision = ${literal(down_revision)}
branch_labels = ${literal(branch_labels)}
depends_on = ${literal(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
