"""Building blocks of a plugin's pages in the Flask-Admin panel: record views, forms, bulk
actions, start-page panels, filters and the Polish date fields (part of the public
namespace, see :mod:`opiekun.plugin`)."""

from __future__ import annotations

from opiekun.admin import panel_views
from opiekun.admin.actions import BulkAction, RecordSelection
from opiekun.admin.bounds import requested_page
from opiekun.admin.counts import ShownTotal
from opiekun.admin.dates import (
    DateBetweenFilter,
    LocalDateField,
    LocalDateTimeField,
    date_or_none,
    range_text,
    user_today,
)
from opiekun.admin.filters import YES, EmptyFilter, OwnerDepartedFilter, OwnerIsFilter, YesNoFilter, with_live_options
from opiekun.admin.forms import AdminForm, active_users
from opiekun.admin.home import (
    SHOWN_ROWS,
    Bar,
    Figure,
    HomeLink,
    HomePanel,
    bar_chart,
    format_count,
    records_per_owner,
    sees_team,
)
from opiekun.admin.views import (
    ADMINISTRATION_CATEGORY,
    LoginRequired,
    OpiekunModelView,
    RecordView,
    attempt,
    commit_or_report,
    current_user_holds,
    error_message,
    role_choices,
)

__all__ = [
    "ADMINISTRATION_CATEGORY",
    "AdminForm",
    "Bar",
    "BulkAction",
    "DateBetweenFilter",
    "EmptyFilter",
    "Figure",
    "HomeLink",
    "HomePanel",
    "LocalDateField",
    "LocalDateTimeField",
    "LoginRequired",
    "OpiekunModelView",
    "OwnerDepartedFilter",
    "OwnerIsFilter",
    "RecordSelection",
    "RecordView",
    "ShownTotal",
    "SHOWN_ROWS",
    "YES",
    "YesNoFilter",
    "active_users",
    "attempt",
    "bar_chart",
    "commit_or_report",
    "current_user_holds",
    "date_or_none",
    "error_message",
    "format_count",
    "panel_views",
    "range_text",
    "records_per_owner",
    "requested_page",
    "role_choices",
    "sees_team",
    "user_today",
    "with_live_options",
]
