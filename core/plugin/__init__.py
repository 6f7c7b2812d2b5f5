"""The public namespace for plugins: everything a plugin may use, and nothing else.

A plugin — built-in or a partner's — imports from ``opiekun.plugin`` (this module: the
contract, records, the change stream, errors and messages, rights, jobs, time, users'
items) and its two companions, :mod:`opiekun.plugin.api` (building blocks of JSON routes)
and :mod:`opiekun.plugin.admin` (building blocks of the Flask-Admin panel). Everything
else under ``opiekun`` is internal and may change in any release; a test fails when a
plugin of this repository imports from anywhere else.

The hooks a plugin implements are in :mod:`opiekun.hookspecs`.
"""

from __future__ import annotations

from opiekun import __version__ as VERSION  # noqa: N812 - the core's version, as a constant
from opiekun import hookimpl
from opiekun.changes import (
    Actor,
    BulkChange,
    ChangeSet,
    FieldChange,
    RecordBatch,
    RecordChange,
    change_context,
    change_value,
    current_actor,
    record_event,
    update_records,
)
from opiekun.config import ConfigurationError
from opiekun.demo import DemoContext
from opiekun.errors import (
    Conflict,
    DomainError,
    Gone,
    Invalid,
    Message,
    NotFound,
    PluralMessage,
    Refused,
    Translatable,
    translated,
)
from opiekun.extensions import db
from opiekun.jobs import (
    JobDefinition,
    Schedule,
    enqueue,
    enqueue_in,
    enqueue_on_commit,
    error_summary,
    job_state,
    report_progress,
)
from opiekun.jobs import connection as job_connection
from opiekun.labels import (
    FIELD_LABELS,
    VALUE_LABELS,
    moment_text,
    record_type_label,
    record_types_label,
    user_label,
    value_label,
)
from opiekun.local_time import as_local, days_as_utc, deployment_time_zone, is_time_zone, today_in
from opiekun.local_time import today as company_today
from opiekun.lookups import MAX_ID, find_by_id, get_by_id, is_possible_id
from opiekun.manifest import PluginManifest
from opiekun.models import (
    Company,
    Deal,
    Notification,
    Person,
    Pipeline,
    PluginGap,
    RecordMixin,
    User,
    UTCDateTime,
    enum_check,
    utcnow,
)
from opiekun.notifications import active_administrators, language_of, notify_users
from opiekun.pagination import Total, count_rows, count_up_to, fetch, page_of
from opiekun.permissions import Permission, has_permission, role_exists
from opiekun.plugin_activity import gaps_of
from opiekun.record_queries import filtered_records, get_record
from opiekun.record_registry import RecordApi, RecordField, RecordType, RecordTypeRegistry, record_types
from opiekun.record_rules import may_change
from opiekun.replica import replica_reads
from opiekun.search import create_search_indexes, drop_search_indexes
from opiekun.spreadsheets import xlsx_text
from opiekun.stored_settings import SettingsStore, StoredSetting
from opiekun.user_items import (
    MOVED_ITEM_COLUMNS,
    UNDO_OUTCOMES,
    ItemCount,
    TransferOption,
    TransferRequest,
    TransferResult,
    UndoRequest,
    in_share,
    records_to_move,
)
from opiekun.users import SHOW_DEPARTED_USERS, show_departed_users

__all__ = [
    # the contract
    "VERSION",
    "PluginManifest",
    "hookimpl",
    # records and the database
    "Company",
    "Deal",
    "Notification",
    "Person",
    "Pipeline",
    "PluginGap",
    "RecordApi",
    "RecordField",
    "RecordMixin",
    "RecordType",
    "RecordTypeRegistry",
    "UTCDateTime",
    "User",
    "db",
    "enum_check",
    "filtered_records",
    "gaps_of",
    "get_record",
    "may_change",
    "record_types",
    "create_search_indexes",
    "drop_search_indexes",
    "utcnow",
    # the change stream
    "Actor",
    "BulkChange",
    "ChangeSet",
    "FieldChange",
    "RecordBatch",
    "RecordChange",
    "change_context",
    "change_value",
    "current_actor",
    "record_event",
    "update_records",
    # refusals and texts
    "Conflict",
    "ConfigurationError",
    "DomainError",
    "FIELD_LABELS",
    "Gone",
    "Invalid",
    "Message",
    "NotFound",
    "PluralMessage",
    "Refused",
    "Translatable",
    "VALUE_LABELS",
    "moment_text",
    "record_type_label",
    "record_types_label",
    "translated",
    "user_label",
    "value_label",
    # rights
    "Permission",
    "has_permission",
    "role_exists",
    # background jobs
    "JobDefinition",
    "Schedule",
    "enqueue",
    "enqueue_in",
    "enqueue_on_commit",
    "error_summary",
    "job_connection",
    "job_state",
    "report_progress",
    # days and time zones
    "as_local",
    "company_today",
    "days_as_utc",
    "deployment_time_zone",
    "is_time_zone",
    "today_in",
    # looking rows up, pages, spreadsheets, settings, demo data
    "DemoContext",
    "active_administrators",
    "language_of",
    "notify_users",
    "MAX_ID",
    "SettingsStore",
    "StoredSetting",
    "fetch",
    "find_by_id",
    "get_by_id",
    "is_possible_id",
    "Total",
    "count_rows",
    "count_up_to",
    "page_of",
    "replica_reads",
    "xlsx_text",
    # users and their items (offboarding's contract)
    "ItemCount",
    "MOVED_ITEM_COLUMNS",
    "SHOW_DEPARTED_USERS",
    "TransferOption",
    "TransferRequest",
    "TransferResult",
    "UNDO_OUTCOMES",
    "UndoRequest",
    "in_share",
    "records_to_move",
    "show_departed_users",
]
