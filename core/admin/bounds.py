"""The query-string values of the admin's lists kept within what the database can answer.

Flask-Admin reads ``page``, a record's ``id``, filter values and the ``offset``/``limit``
of link searches as Python numbers of any size and hands them to the database, which
fails on what its integer types cannot hold (``?page=99999999999999999999``, an ``id`` of
``abc`` on PostgreSQL): a 500. :class:`BoundedListArguments` checks them first — a page
number is clamped, a record id that cannot exist finds nothing, a filter value its column
cannot hold is refused like any invalid filter value, a bad ``offset``/``limit`` is a 400.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, flash, request
from flask_admin import expose
from sqlalchemy import BigInteger, inspect

from opiekun.lookups import MAX_ID

#: The last page a list opens (as the API's ``page`` allows); beyond the rows, it is empty.
MAX_PAGE = 1_000_000
#: The most choices one search of a linked record (an ajax lookup) answers with.
MAX_LOOKUP_LIMIT = 100
MAX_LOOKUP_OFFSET = 1_000_000
BIGINT_MAX = 2**63 - 1
ROW_ID = re.compile(r"^[0-9]{1,10}$")


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except (AttributeError, NotImplementedError):
        return None


def _number_fits(value: Any, column: Any, python_type: type) -> bool:
    """``value`` is a number the column's type can hold."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return False
    if not number.is_finite():
        return False
    if python_type is not int:
        return True
    largest = BIGINT_MAX if isinstance(column.type, BigInteger) else MAX_ID
    return number == number.to_integral_value() and -largest - 1 <= number <= largest


def filter_value_fits(list_filter: Any, value: str) -> bool:
    """A filter on a number column gets numbers that column can hold (every value of a
    list filter); filters on other columns are Flask-Admin's to validate."""
    column = getattr(list_filter, "column", None)
    python_type = _python_type(column)
    if python_type not in (int, float, Decimal):
        return True
    try:
        cleaned = list_filter.clean(value)
    except (ValueError, TypeError, ArithmeticError):
        return False
    values = cleaned if isinstance(cleaned, (list, tuple)) else [cleaned]
    return all(_number_fits(item, column, python_type) for item in values)


class BoundedListArguments:
    """Mixin for Flask-Admin model views: the list's, the record pages' and the link
    searches' query-string values within the database's bounds."""

    def _get_list_extra_args(self):
        """The page is clamped to ``0 … MAX_PAGE`` (Flask-Admin counts pages from 0)."""
        view_args = super()._get_list_extra_args()
        return view_args.clone(page=min(max(view_args.page or 0, 0), MAX_PAGE))

    def _get_list_filter_args(self):
        """Flask-Admin's filters, without those whose value their column cannot hold
        (flashed as an invalid filter value, as Flask-Admin does for others)."""
        filters = super()._get_list_filter_args()
        if not filters:
            return filters
        kept = []
        for index, name, value in filters:
            list_filter = self._filters[index]
            if filter_value_fits(list_filter, value):
                kept.append((index, name, value))
            else:
                flash(self.get_invalid_value_msg(value, list_filter), "error")
        return kept

    def get_one(self, id):  # noqa: A002 - Flask-Admin's name
        """``None`` (Flask-Admin's "record does not exist") for an id that no row of an
        integer primary key can have."""
        if not self.could_be_row_id(id):
            return None
        return super().get_one(id)

    def could_be_row_id(self, value: Any) -> bool:
        key = inspect(self.model).primary_key
        if len(key) != 1 or _python_type(key[0]) is not int:
            return True
        text = str(value)
        return bool(ROW_ID.match(text)) and int(text) <= MAX_ID

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        """Flask-Admin's search of a linked record's choices; ``offset`` and ``limit``
        out of range are a 400."""
        offset = request.args.get("offset", 0, type=int)
        limit = request.args.get("limit", 10, type=int)
        if not (0 <= offset <= MAX_LOOKUP_OFFSET and 0 <= limit <= MAX_LOOKUP_LIMIT):
            abort(400)
        return super().ajax_lookup()


def requested_page() -> int:
    """The page (from 1) a plugin's own admin page is asked for in ``?page=``; anything but
    a whole number from 1 to :data:`MAX_PAGE` is the first page."""
    text = request.args.get("page", "1")
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_PAGE else 1
