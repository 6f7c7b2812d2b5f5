"""List filters every record view shares: by owner, without owner, owner departed, and
date ranges over the timestamps. Written once; :class:`~opiekun.admin.views.RecordView`
builds them for each record type's model."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from opiekun.admin.dates import DateRangeFilter
from opiekun.extensions import db
from opiekun.labels import user_label
from opiekun.models import User
from opiekun.users import show_departed_users

YES = "1"
"""The value of "yes" in a yes/no list filter's URL (``YesNoFilter``)."""
NO = "0"
"""The value of "no" in a yes/no list filter's URL."""


def user_choices() -> list[tuple[str, str]]:
    """Every user as a filter option, active ones first; departed ones say so (unless the
    setting :data:`opiekun.users.SHOW_DEPARTED_USERS` hides them)."""
    statement = select(User).order_by(User.status, User.name, User.id)
    if not show_departed_users():
        statement = statement.where(User.status == "active")
    return [(str(user.id), user_label(user)) for user in db.session.scalars(statement)]


def _yes_no() -> list[tuple[str, Any]]:
    return [(YES, _l("Yes")), (NO, _l("No"))]


def with_live_options(list_filter: BaseSQLAFilter, source) -> BaseSQLAFilter:
    """Give a filter choices read from the database at every request (users, roles).

    Flask-Admin reads a filter's ``options`` once, when the view is built — before the
    tables may even exist; views mixing in :class:`LiveFilterOptions` ask ``source``
    instead each time they render the list.
    """
    list_filter.live_options = source
    return list_filter


class LiveFilterOptions:
    """Mixin for model views: filters made by :func:`with_live_options` show current choices."""

    def _get_filter_groups(self):
        groups = super()._get_filter_groups()
        for items in (groups or {}).values():
            for item in items:
                source = getattr(self._filters[item["index"]], "live_options", None)
                if source is not None:
                    item["options"] = [(key, str(label)) for key, label in source()]
        return groups


class OwnerIsFilter(BaseSQLAFilter):
    """Records owned by one user (a select of all users, departed ones included)."""

    def __init__(self, column, name):
        super().__init__(column, name)
        with_live_options(self, user_choices)

    def validate(self, value: str) -> bool:
        return value.isdigit()

    def clean(self, value: str) -> int:
        return int(value)

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return _l("is")


class YesNoFilter(BaseSQLAFilter):
    """A yes/no filter: ``condition(column)`` holds (yes) or does not (no)."""

    def __init__(self, column, name):
        super().__init__(column, name, options=_yes_no)

    def validate(self, value: str) -> bool:
        return value in (YES, NO)

    def condition(self, column):
        """The SQL condition the "yes" answer selects."""
        raise NotImplementedError

    def opposite(self, column):
        """The SQL condition the "no" answer selects."""
        return ~self.condition(column)

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(self.condition(column) if value == YES else self.opposite(column))

    def operation(self):
        return _l("is")


class EmptyFilter(YesNoFilter):
    """The column has no value: records nobody owns, notifications not read yet."""

    def condition(self, column):
        return column.is_(None)

    def opposite(self, column):
        return column.is_not(None)


class OwnerDepartedFilter(YesNoFilter):
    """Records whose owner has left the company (to be reassigned)."""

    def condition(self, column):
        return column.in_(self._departed_users())

    def opposite(self, column):
        return or_(column.is_(None), column.not_in(self._departed_users()))

    @staticmethod
    def _departed_users():
        return select(User.id).where(User.status == "departed")


def record_filters(model: type) -> list[BaseSQLAFilter]:
    """The shared filters, built for one record model."""
    return [
        OwnerIsFilter(model.owner_id, _l("Owner")),
        EmptyFilter(model.owner_id, _l("No owner")),
        OwnerDepartedFilter(model.owner_id, _l("Owner has departed")),
        DateRangeFilter(model.created_at, _l("Created")),
        DateRangeFilter(model.updated_at, _l("Updated")),
    ]
