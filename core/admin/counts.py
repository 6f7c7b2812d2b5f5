"""How the panel's lists count their rows: as the API does (:func:`opiekun.pagination.total_of`:
exact up to the exact-count limit, an estimate beyond it), shown as "more than 10,000" when
estimated, so no list page counts a million rows to draw its pager."""

from __future__ import annotations

from flask_babel import format_decimal, gettext
from markupsafe import escape
from sqlalchemy import literal_column
from sqlalchemy.orm import Query

from opiekun.pagination import Total, exact_count_limit, total_of


class ShownTotal(Total):
    """A list's total as the panel shows it: the number in the user's format, or "more
    than 10,000" when the database only estimated it. Jinja shows it through ``__html__``;
    as a number (the pager's page count) it is the total or the estimate."""

    @classmethod
    def of(cls, total: int) -> ShownTotal:
        return cls(total, is_estimate=getattr(total, "is_estimate", False))

    def shown(self) -> str:
        if self.is_estimate:
            return gettext("more than %(count)s", count=format_decimal(exact_count_limit()))
        return format_decimal(int(self))

    def __html__(self) -> str:
        return str(escape(self.shown()))


class CountingQuery(Query):
    """Flask-Admin's count query of a list (``SELECT count(*) … WHERE <the list's filters>``),
    answering :class:`ShownTotal` by :func:`~opiekun.pagination.total_of` of the same rows."""

    def scalar(self) -> ShownTotal:
        rows = self.statement.with_only_columns(literal_column("1"), maintain_column_froms=True)
        return ShownTotal.of(total_of(rows))
