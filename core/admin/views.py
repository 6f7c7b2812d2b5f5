"""The admin panel's views: the record view every record type gets, users, custom roles,
pipelines, the plugins page, the user's notifications and the home page.

Views stay thin: saving a record goes through the same rules as the API
(:mod:`opiekun.record_rules`), departures through :func:`opiekun.users.mark_departed`, and
permissions are checked on the server for every page, form and action.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form.widgets import Select2Widget
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_babel import format_currency, format_date, format_datetime, format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import CheckConstraint, Numeric, func, inspect, select, update
from sqlalchemy.orm import RelationshipDirection
from wtforms import PasswordField, SelectField, SelectMultipleField
from wtforms.validators import Length, Optional, ValidationError

from opiekun import record_rules
from opiekun.admin.actions import BulkAction, RecordSelection
from opiekun.admin.added_fields import added_filters, added_form_field
from opiekun.admin.bounds import BoundedListArguments
from opiekun.admin.counts import CountingQuery
from opiekun.admin.dates import LocalDateField, LocalDateTimeField, LocalFilterConverter
from opiekun.admin.filters import EmptyFilter, LiveFilterOptions, OwnerIsFilter, record_filters, with_live_options
from opiekun.admin.forms import AdminForm, OwnerField, ReferenceField, active_users
from opiekun.api.schemas import CONTROL_CHARACTERS
from opiekun.errors import DomainError, translated
from opiekun.extensions import db
from opiekun.labels import FIELD_LABELS, LANGUAGE_NAMES, user_label, value_label
from opiekun.local_time import deployment_time_zone, time_zone_names
from opiekun.lookups import find_by_id, load_for_change
from opiekun.models import (
    BUILTIN_ROLES,
    DEFAULT_CURRENCY,
    MONEY_COLUMNS,
    USER_STATUSES,
    Deal,
    Notification,
    Pipeline,
    PipelineStage,
    Role,
    User,
    utcnow,
)
from opiekun.passwords import password_problem
from opiekun.permissions import declared_permissions, has_permission
from opiekun.privileges import (
    require_permissions_grantable,
    require_role_change_allowed,
    require_user_change_allowed,
    require_user_creation_allowed,
)
from opiekun.record_queries import search_condition
from opiekun.record_registry import RecordField, RecordType, added_values
from opiekun.redirects import local_path_or
from opiekun.replica import replica_reads
from opiekun.spreadsheets import csv_field
from opiekun.users import change_password, change_role, mark_departed, reactivate, require_unique_email

log = logging.getLogger(__name__)

RECORDS_CATEGORY = _l("Records")
ADMINISTRATION_CATEGORY = _l("Administration")

#: Columns every record has; the record view shows them its own way (or not at all).
RECORD_MIXIN_COLUMNS = ("id", "owner_id", "created_by_id", "created_at", "updated_at")


#: Where :func:`opiekun.admin.init_admin` keeps the views of an app's panel.
PANEL_VIEWS = "opiekun.admin_views"


def panel_views() -> list[BaseView]:
    """Every view of the current app's admin panel, in the order they were added."""
    return current_app.extensions[PANEL_VIEWS]


# --- access -------------------------------------------------------------------------------


def user_is_active() -> bool:
    """A user is logged in and has not left."""
    return bool(current_user and current_user.is_authenticated and current_user.status == "active")


def current_user_holds(permission: str | None) -> bool:
    """The logged-in user holds ``permission`` (``None``: no permission needed)."""
    return permission is None or has_permission(current_user, permission)


class LoginRequired:
    """Mixin: the view needs an active logged-in user and, when ``required_permission``
    is set, that permission (403 otherwise). Guests are sent to the login page."""

    required_permission: str | None = None

    def is_accessible(self) -> bool:
        return user_is_active() and current_user_holds(self.required_permission)

    def inaccessible_callback(self, name, **kwargs):
        if not user_is_active():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)


class EditableWithPermission:
    """Mixin for model views everyone may read but only holders of ``edit_permission``
    may create, change or delete in."""

    edit_permission: str | None = None

    @property
    def can_create(self) -> bool:
        return current_user_holds(self.edit_permission)

    @property
    def can_edit(self) -> bool:
        return current_user_holds(self.edit_permission)

    @property
    def can_delete(self) -> bool:
        return current_user_holds(self.edit_permission)


# --- committing ---------------------------------------------------------------------------


def attempt(work: Callable[[], Any], labels: Mapping[str, str] | None = None) -> tuple[bool, Any]:
    """Run ``work`` in the current transaction and commit: ``(True, its result)``. On an
    error roll everything back, flash why (fields named by ``labels``) and answer
    ``(False, None)``. Whole or nothing."""
    try:
        result = work()
        db.session.commit()
    except (DomainError, ValidationError) as error:
        db.session.rollback()
        flash(error_message(error, labels), "error")
        return False, None
    except Exception as error:  # noqa: BLE001 - the user sees why; the log keeps the trace
        db.session.rollback()
        log.exception("admin operation failed")
        flash(gettext("The operation failed and nothing was changed: %(error)s", error=error), "error")
        return False, None
    return True, result


def commit_or_report(work: Callable[[], str | None]) -> bool:
    """:func:`attempt` ``work``, flashing the message it returns when it succeeds."""
    succeeded, message = attempt(work)
    if succeeded and message:
        flash(message, "success")
    return succeeded


def capitalized(text: str) -> str:
    """``text`` starting with a capital letter (the rest as it is)."""
    return text[:1].upper() + text[1:]


def error_message(error: Exception, labels: Mapping[str, str] | None = None) -> str:
    """What a refused change says in the admin, as a sentence in the user's language where
    the service wrote a :class:`~opiekun.errors.Message` (the API's lower-case English
    stays as it is): the message, then each field's problem."""
    message = capitalized(translated(getattr(error, "message", None) or str(error)))
    fields = getattr(error, "fields", None)
    return f"{message}: {describe_problems(fields, labels)}" if fields else message


def describe_problems(problems: Mapping[str, str], labels: Mapping[str, str] | None = None) -> str:
    """``{field: problem}`` as one form message, fields named by their labels."""
    labels = {**FIELD_LABELS, **(labels or {})}
    return "; ".join(f"{field_name(field, labels)}: {translated(problem)}" for field, problem in problems.items())


def field_name(field: str, labels: Mapping[str, str]) -> str:
    """A field as the form names it: its label, or for a path the form has no label for,
    ``items.0.responsible`` (the API's path into a list) becomes "Tasks › 1 ›
    Responsible" (each part by its label, positions counted from 1)."""
    if field in labels:
        return str(labels[field])
    parts = field.split(".")
    return " › ".join(str(int(part) + 1) if part.isdigit() else str(labels.get(part, part)) for part in parts)


def parse_ids(ids: list[str]) -> list[int]:
    """The row ids a list action posted (Flask-Admin sends them as strings)."""
    try:
        return [int(value) for value in ids]
    except ValueError:
        abort(400)


# --- model introspection for the record view ----------------------------------------------


def model_of_table(table) -> type | None:
    """The mapped class of a table, if any."""
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return None


def many_to_one_relationships(model: type) -> dict[str, Any]:
    """The model's many-to-one relationships, by attribute name."""
    return {rel.key: rel for rel in inspect(model).relationships if rel.direction is RelationshipDirection.MANYTOONE}


def plain_references(model: type) -> dict[str, type]:
    """Foreign-key columns no relationship covers (a lead's ``company_id``…), with the
    model they point at; the record's owner and author are left out."""
    covered = {column.key for rel in many_to_one_relationships(model).values() for column in rel.local_columns}
    references = {}
    for column in model.__table__.c:
        if column.key in covered or column.key in RECORD_MIXIN_COLUMNS:
            continue
        for foreign_key in column.foreign_keys:
            target = model_of_table(foreign_key.column.table)
            if target is not None:
                references[column.key] = target
    return references


#: The SQL of a CHECK constraint made by :func:`opiekun.models.enum_check`: ``status IN ('a', 'b')``.
ENUM_CHECK = re.compile(r"^\s*(\w+)\s+IN\s*\((.*)\)\s*$", re.S)


def allowed_values(model: type) -> dict[str, tuple[str, ...]]:
    """Columns limited to a fixed list of values by a CHECK constraint (a deal's status…)."""
    columns = {}
    for constraint in model.__table__.constraints:
        if isinstance(constraint, CheckConstraint):
            match = ENUM_CHECK.match(str(constraint.sqltext))
            if match:
                columns[match.group(1)] = tuple(re.findall(r"'([^']*)'", match.group(2)))
    return columns


def value_choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """A select's choices for fixed values, labelled in the user's language."""
    return [(value, value_label(value)) for value in values]


def changed_values(model: Any, everything: bool) -> dict[str, Any]:
    """The column values a form changed on ``model`` (all of them when ``everything``),
    with a changed many-to-one relationship reported as its foreign-key column — the
    shape the API's rules (:mod:`opiekun.record_rules`) check."""
    state = inspect(model)
    values = {
        attribute.key: getattr(model, attribute.key)
        for attribute in state.mapper.column_attrs
        if state.attrs[attribute.key].history.has_changes()
        or (everything and not _filled_in_by_database(attribute.columns[0]))
    }
    for key, relationship in many_to_one_relationships(type(model)).items():
        if not (everything or state.attrs[key].history.has_changes()):
            continue
        target = getattr(model, key)
        for local, remote in relationship.local_remote_pairs:
            if target is not None:
                values[local.key] = getattr(target, remote.key)
            elif not everything:  # the form emptied the link
                values[local.key] = None
    return values


def _filled_in_by_database(column) -> bool:
    """A new row gets this column's value when it is written (id, defaults, timestamps)."""
    return column.primary_key or column.default is not None or column.server_default is not None


def reference_formatter(target: type) -> Callable:
    """A list/details formatter showing the record an id column points at."""

    def show_reference(view, context, model, name):
        value = getattr(model, name)
        row = db.session.get(target, value) if value is not None else None
        return str(row) if row is not None else ""

    return show_reference


def owner_formatter(view, context, model, name) -> str:
    return user_label(model.owner)


def value_formatter(view, context, model, name) -> str:
    return value_label(getattr(model, name))


# --- the base of the admin's model views ---------------------------------------------------


def format_timestamp(view, value: dt.datetime, name: str) -> str:
    """Timestamps to the minute, on the user's clock, in their language's format."""
    return format_datetime(value, "short")


def format_day(view, value: dt.date, name: str) -> str:
    """Days in the user's language's format (``6.12.2026``)."""
    return format_date(value, "short")


def format_number(view, value: Decimal | float, name: str) -> str:
    """Numbers in the user's language's format (``1 234,50``)."""
    return format_decimal(value)


def money_columns(model: type) -> list[str]:
    """The model's amounts of money: numeric columns named as in :data:`MONEY_COLUMNS`."""
    columns = inspect(model).columns
    return [name for name in MONEY_COLUMNS if name in columns and isinstance(columns[name].type, Numeric)]


def money_formatter(view, context, model, name) -> str:
    """An amount with its currency in the user's format (``12 345,50 zł``)."""
    value = getattr(model, name)
    if value is None:
        return ""
    return format_currency(value, getattr(model, "currency", None) or DEFAULT_CURRENCY)


def format_yes_no(view, value: bool, name: str) -> Markup:
    """A yes/no value as Flask-Admin's icon, titled in the user's language."""
    icon, answer = ("fa-check-circle", gettext("yes")) if value else ("fa-minus-circle", gettext("no"))
    return Markup('<span class="fa {}" title="{}"></span>').format(icon, answer)


class LocalDatesConverter(AdminModelConverter):
    """Flask-Admin's form fields, with dates and times typed in the user's format and on
    their clock (:mod:`opiekun.admin.dates`)."""

    @converts("Date")
    def convert_date(self, field_args, **extra):
        return LocalDateField(**field_args)

    @converts("DateTime")
    def convert_datetime(self, field_args, **extra):
        return LocalDateTimeField(**field_args)


class OpiekunModelView(LoginRequired, LiveFilterOptions, BoundedListArguments, ModelView):
    """What every model view of the panel shares: login (and permission), CSRF-protected
    forms, translated column labels, dates and times in the user's format and time zone,
    filters with live choices, query strings within the database's bounds, CSV exports
    without formulas, totals estimated beyond the exact-count limit."""

    form_base_class = AdminForm
    model_form_converter = LocalDatesConverter
    filter_converter = LocalFilterConverter()
    page_size = 50
    column_labels = FIELD_LABELS
    column_type_formatters = {
        **typefmt.BASE_FORMATTERS,
        bool: format_yes_no,
        dt.datetime: format_timestamp,
        dt.date: format_day,
        Decimal: format_number,
        float: format_number,
    }
    column_type_formatters_detail = column_type_formatters
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, dt.datetime: format_timestamp, dt.date: format_day}

    def get_count_query(self):
        """The list's count, exact up to the exact-count limit and estimated beyond
        (:class:`~opiekun.admin.counts.CountingQuery`)."""
        return CountingQuery([func.count("*")], session=db.session()).select_from(self.model)

    def list_url(self, **arguments: Any) -> str:
        """This view's list, from any page (``get_url('.index_view')`` works only inside it)."""
        return url_for(f"{self.endpoint}.index_view", **arguments)

    def filtered_url(self, *conditions: tuple[type | str, Any]) -> str:
        """This list with filters set, from any page: each condition names a filter of the
        list — by its class (exactly) or by its column's name — and the value to filter by.
        E.g. ``view.filtered_url((OwnerIsFilter, 7), ("status", "failed"))``."""
        arguments = {}
        for position, (wanted, value) in enumerate(conditions):
            index, list_filter = self.list_filter(wanted)
            arguments[f"flt{position}_{self.get_filter_arg(index, list_filter)}"] = value
        return self.list_url(**arguments)

    def list_filter(self, wanted: type | str) -> tuple[int, Any]:
        """The list's filter ``wanted`` (a class, or a column's name) and its index."""
        for index, list_filter in enumerate(self._filters or ()):
            if type(list_filter) is wanted or getattr(getattr(list_filter, "column", None), "key", None) == wanted:
                return index, list_filter
        raise LookupError(f"the list {self.endpoint!r} has no filter {wanted!r}")

    def get_export_value(self, model, name):
        """Every exported field is inert in a spreadsheet (no ``=…`` formulas): the one
        place all lists' CSV exports (core and plugins) go through."""
        return csv_field(super().get_export_value(model, name))


# --- records ------------------------------------------------------------------------------


def close_deal_if_form_closed_it(deal: Deal, is_created: bool) -> None:
    """A deal whose form set it won or lost is closed by :func:`record_rules.close_deal`
    (the deal-closed hook fires: post-sale tasks, partners), as the API's win and lose do."""
    history = inspect(deal).attrs.status.history
    old_status = None if is_created else (history.deleted[0] if history.deleted else deal.status)
    outcome = record_rules.closing_outcome(old_status, deal.status)
    if outcome is None:
        return
    deal.status = "open"
    try:
        record_rules.close_deal(deal, outcome, deal.lost_reason)
    except DomainError as error:
        raise ValidationError(translated(error.message)) from error


class RecordView(OpiekunModelView):
    """The admin list and forms of one record type; every record type gets one.

    Built as ``RecordView(record_type)``. A plugin may subclass it (its record type's
    ``admin_view``) to choose columns; the owner filters, the rules of saving, the
    permissions and every plugin's bulk actions come with it.
    """

    can_set_page_size = True
    can_view_details = True
    can_export = True
    export_types = ["csv"]
    #: newest first, by the primary key: a page of a million records reads 50 index entries
    #: (``created_at`` has no index, and sorting by it read every row)
    column_default_sort = ("id", True)
    form_excluded_columns = RECORD_MIXIN_COLUMNS
    list_template = "opiekun/admin/record_list.html"
    details_template = "opiekun/admin/record_details.html"

    def _apply_search(self, query, count_query, joins, count_joins, search: str):
        """The search box searches as the API's ``?q=`` does (:func:`search_condition`: every
        word, case and accents aside, on the type's search indexes); a view searching other
        columns keeps Flask-Admin's search."""
        if list(self.column_searchable_list or ()) != list(self.record_type.search_columns):
            return super()._apply_search(query, count_query, joins, count_joins, search)
        condition = search_condition(self.record_type, search)
        return (
            query.filter(condition),
            count_query.filter(condition) if count_query is not None else None,
            joins,
            count_joins,
        )

    def __init__(self, record_type: RecordType):
        self.record_type = record_type
        model = record_type.model
        self._bulk_actions: dict[str, BulkAction] = {}
        references = plain_references(model)
        self.column_list = self.column_list or self.default_list_columns(model, references)
        self.column_details_list = self.column_details_list or self.default_details_columns(model, references)
        self.form_columns = self.form_columns or self.default_form_columns(model)
        self.column_sortable_list = self.column_sortable_list or self.default_sortable_columns(model)
        self.column_searchable_list = self.column_searchable_list or list(record_type.search_columns)
        choices = allowed_values(model)
        self.column_filters = [
            *record_filters(model),
            *self.value_filters(model, choices),
            *(self.column_filters or ()),
        ]
        self.column_formatters = {**self.default_formatters(model, references), **(self.column_formatters or {})}
        self.form_overrides = {
            "owner": OwnerField,
            **dict.fromkeys(choices, SelectField),
            **(self.form_overrides or {}),
        }
        self.form_args = {**self.owner_field_args(), **self.value_field_args(choices), **(self.form_args or {})}
        self.reference_loaders = self.reference_lookups(references)
        self.form_ajax_refs = {**self.record_lookups(model), **self.reference_loaders, **(self.form_ajax_refs or {})}
        self.show_added_fields(current_app.extensions["opiekun.record_types"].fields_of(record_type))
        for position, bulk_action in enumerate(
            current_app.extensions["opiekun.plugins"].admin_bulk_actions(record_type)
        ):
            self.offer_bulk_action(bulk_action, position)
        super().__init__(
            model, db, name=_l(record_type.label_plural), category=RECORDS_CATEGORY, endpoint=record_type.name
        )

    # --- fields other plugins add (opiekun_record_fields) ---

    def show_added_fields(self, fields: list[RecordField]) -> None:
        """A column of the list and a row of the record page per field plugins add to the
        type, computed once per page (:meth:`get_list`); list filters for those with an
        ``expression``, form fields for those with ``save``."""
        self.added_fields = fields
        self.saved_added_fields = [field for field in fields if field.save is not None]
        if not fields:
            return
        names = [field.name for field in fields]
        self.column_list = [*self.column_list, *names]
        self.column_details_list = [*self.column_details_list, *names]
        self.column_labels = {**(self.column_labels or {}), **{field.name: field.label for field in fields}}
        self.column_formatters = {**self.column_formatters, **dict.fromkeys(names, self.added_value)}
        self.column_filters = [*self.column_filters, *added_filters(self.filter_converter, fields)]

    def get_list(self, *args, **kwargs):
        """The page's records, and the added fields' values for them (one query per field)."""
        count, records = super().get_list(*args, **kwargs)
        if self.added_fields and isinstance(records, list):
            g.opiekun_added_values = added_values(self.model, self.added_fields, [record.id for record in records])
        return count, records

    def added_values_of(self, record: Any) -> dict[str, Any]:
        """The added fields' values of ``record`` (from the page's values, or alone on a record page)."""
        values = g.get("opiekun_added_values") or {}
        if record.id not in values:
            values = added_values(self.model, self.added_fields, [record.id])
        return values[record.id]

    def added_value(self, _view, _context, record, name: str):
        """An added field's value for ``record``, as a cell or a row of the record page."""
        value = self.added_values_of(record).get(name)
        return "—" if value is None else value

    def fill_in_added_fields(self, form, record: Any) -> None:
        """The form fields of the added fields show the record's values (on the form's first display)."""
        if request.method != "GET" or record is None:
            return
        values = self.added_values_of(record)
        for field in self.saved_added_fields:
            form[field.name].data = values.get(field.name)

    def save_added_fields(self, form, record: Any) -> None:
        """Hand the values typed into the added fields to the plugins that store them
        (:func:`opiekun.record_rules.save_added_values`, as the API does), once the record
        has its id; a plugin's refusal shows on the form and nothing is saved."""
        if not self.saved_added_fields:
            return
        given = {field.name: form[field.name].data for field in self.saved_added_fields}
        db.session.flush()
        obeying(record_rules.save_added_values, self.record_type, record, given, labels=self.column_labels)

    # --- what the list shows ---

    #: How many of the record's own columns the list shows by default (the details show all).
    list_own_columns = 6

    @staticmethod
    def own_columns(model: type) -> list[str]:
        return [
            column.key
            for column in model.__table__.c
            if column.key not in RECORD_MIXIN_COLUMNS and not column.foreign_keys
        ]

    def default_list_columns(self, model: type, references: Mapping[str, type]) -> list[str]:
        """The record's first own columns, its links to other rows, then owner and last change."""
        links = [key for key in many_to_one_relationships(model) if key != "owner"]
        return [*self.own_columns(model)[: self.list_own_columns], *links, *references, "owner", "updated_at"]

    def default_form_columns(self, model: type) -> list[str]:
        """The record's own fields first, then its links; links through plain id columns
        are added by :meth:`scaffold_form`, and the owner comes last."""
        links = [key for key in many_to_one_relationships(model) if key != "owner"]
        return [*self.own_columns(model), *links, "owner"]

    def default_details_columns(self, model: type, references: Mapping[str, type]) -> list[str]:
        links = [key for key in many_to_one_relationships(model) if key != "owner"]
        return ["id", *self.own_columns(model), *links, *references, "owner", "created_at", "updated_at"]

    @staticmethod
    def default_sortable_columns(model: type) -> list[Any]:
        own = [column.key for column in model.__table__.c if not column.foreign_keys and column.key != "id"]
        return [*own, ("owner", "owner.name")]

    @staticmethod
    def default_formatters(model: type, references: Mapping[str, type]) -> dict[str, Callable]:
        formatters: dict[str, Callable] = {"owner": owner_formatter}
        formatters.update({name: reference_formatter(target) for name, target in references.items()})
        formatters.update(dict.fromkeys(allowed_values(model), value_formatter))
        formatters.update(dict.fromkeys(money_columns(model), money_formatter))
        return formatters

    def value_filters(self, model: type, choices: Mapping[str, tuple[str, ...]]) -> list[FilterEqual]:
        """A filter for each column with fixed values (status…), offering those values."""
        return [
            with_live_options(
                FilterEqual(getattr(model, column), self.column_labels.get(column, column)),
                partial(value_choices, values),
            )
            for column, values in choices.items()
        ]

    # --- what the form offers ---

    @staticmethod
    def owner_field_args() -> dict[str, dict]:
        """The owner is picked among active users; empty means nobody owns the record."""
        return {
            "owner": {
                "query_factory": active_users,
                "get_label": user_label,
                "allow_blank": True,
                "blank_text": _l("(no owner)"),
            }
        }

    @staticmethod
    def value_field_args(choices: Mapping[str, tuple[str, ...]]) -> dict[str, dict]:
        """Columns with fixed values are picked from a select."""
        return {column: {"choices": partial(value_choices, values)} for column, values in choices.items()}

    @staticmethod
    def record_lookups(model: type) -> dict[str, dict]:
        """Links to other records (a person's company…) are picked by searching, not from a
        select of every row."""
        registry = current_app.extensions["opiekun.record_types"]
        lookups = {}
        for key, relationship in many_to_one_relationships(model).items():
            target_type = registry.for_model(relationship.mapper.class_)
            if target_type is not None:
                lookups[key] = {"fields": list(target_type.search_columns) or ["id"], "page_size": 20}
        return lookups

    @staticmethod
    def reference_lookups(references: Mapping[str, type]) -> dict[str, QueryAjaxModelLoader]:
        """Plain id columns pointing at other rows (a lead's ``company_id``…) are picked by
        searching too: a loader per column, searching the target's search columns."""
        registry = current_app.extensions["opiekun.record_types"]
        loaders = {}
        for name, target in references.items():
            target_type = registry.for_model(target)
            fields = (target_type and list(target_type.search_columns)) or [
                target.__table__.primary_key.columns.keys()[0]
            ]
            loaders[name] = QueryAjaxModelLoader(name, db, target, fields=fields)
        return loaders

    def scaffold_form(self):
        """The model's form, with a searching field for each plain reference and the owner last."""
        form_class = super().scaffold_form()
        for name, loader in self.reference_loaders.items():
            setattr(form_class, name, ReferenceField(loader, label=self.column_labels.get(name)))
        for field in self.saved_added_fields:
            setattr(form_class, field.name, added_form_field(field))
        owner = getattr(form_class, "owner", None)
        if owner is not None:  # re-created, so that it follows the links added above
            delattr(form_class, "owner")
            form_class.owner = owner.field_class(*owner.args, **owner.kwargs)
        return form_class

    def create_form(self, obj=None):
        """A new record is the creator's unless they choose another owner, or none."""
        form = super().create_form(obj)
        if request.method == "GET" and hasattr(form, "owner"):
            form.owner.data = current_user._get_current_object()
        current_app.extensions["opiekun.plugins"].admin_form(self.record_type, form, None)
        return form

    def edit_form(self, obj=None):
        """A departed owner stays selectable on the record they own until someone picks
        another one (departed users cannot be given new records)."""
        form = super().edit_form(obj)
        owner = getattr(obj, "owner", None)
        if owner is not None and owner.status != "active" and hasattr(form, "owner"):
            form.owner.query_factory = lambda: [owner, *active_users()]
        self.fill_in_added_fields(form, obj)
        current_app.extensions["opiekun.plugins"].admin_form(self.record_type, form, obj)
        return form

    # --- saving through the API's rules ---

    def get_one(self, id):
        """A record posted to (a saved form, a deletion) is loaded for the change: locked,
        with its current values (:func:`opiekun.lookups.load_for_change`), as the API does."""
        if request.method != "POST":
            return super().get_one(id)
        try:
            record_id = int(id)
        except (TypeError, ValueError):
            return None
        return find_by_id(self.model, record_id, for_change=True)

    def change_refusal(self, record: Any, action: str) -> str | None:
        """Why the current user may not ``action`` the record, or ``None``."""
        if record_rules.may_change(current_user, self.record_type, record, action):
            return None
        if action == "delete" and not has_permission(current_user, "records.delete"):
            return gettext("You may not delete records.")
        return gettext("You may not change this record: it belongs to another user.")

    def update_model(self, form, model) -> bool:
        """Check the right to change the record as it is now, before the form touches it."""
        refusal = self.change_refusal(model, "update")
        if refusal:
            flash(refusal, "error")
            return False
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created: bool) -> None:
        if is_created:
            model.created_by_id = current_user.id
            if "owner" not in request.form and hasattr(model, "owner"):
                model.owner = current_user._get_current_object()
        self.check_record(model, "create" if is_created else "update")
        self.save_added_fields(form, model)
        if isinstance(model, Deal):
            close_deal_if_form_closed_it(model, is_created)

    def check_record(self, record: Any, operation: str) -> None:
        """The API's checks (:func:`record_rules.check_record`: no required value missing,
        links to existing rows, an active owner, no plugin objecting), as a
        ``ValidationError`` naming the form's fields (nothing saved)."""
        with db.session.no_autoflush:
            values = changed_values(record, everything=operation == "create")
            obeying(record_rules.check_record, self.record_type, record, values, operation, labels=self.column_labels)

    def delete_model(self, model) -> bool:
        """Delete through :func:`opiekun.record_rules.delete_record` (links to it are cleared
        with change events), if the user may."""
        if load_for_change(self.model, model.id) is None:  # deleted meanwhile (bulk deletes come here too)
            return False
        refusal = self.change_refusal(model, "delete")
        if refusal:
            flash(refusal, "error")
            return False
        if not commit_or_report(lambda: record_rules.delete_record(self.record_type, model)):
            return False
        self.after_model_delete(model)
        return True

    # --- bulk actions ---

    def offer_bulk_action(self, bulk_action: BulkAction, position: int) -> None:
        """Offer a plugin's bulk action on this list: a Flask-Admin ``@action`` of this view
        (called before the view is built, which collects its actions). Flask-Admin lists
        actions in the order of their attribute names: the plugins' come after the view's
        own ``action_…`` methods, in the order the plugins gave them (``position``)."""
        self._bulk_actions[bulk_action.name] = bulk_action
        handler = action(bulk_action.name, bulk_action.label, bulk_action.confirmation)(
            partial(self.run_bulk_action, bulk_action)
        )
        setattr(self, f"offered_bulk_action_{position:03d}", handler)

    def is_action_allowed(self, name: str) -> bool:
        if name == "delete" and not has_permission(current_user, "records.delete"):
            return False
        bulk_action = self._bulk_actions.get(name)
        if bulk_action is not None and not self.bulk_action_allowed(bulk_action):
            return False
        return super().is_action_allowed(name)

    def bulk_action_allowed(self, bulk_action: BulkAction) -> bool:
        if not current_user_holds(bulk_action.permission):
            return False
        return bulk_action.allowed is None or bool(bulk_action.allowed(current_user, self.record_type))

    def run_bulk_action(self, bulk_action: BulkAction, ids: list[str]):
        """Run the handler on the selected rows in one transaction and show its message;
        an action with a form first asks for its values on a page of its own."""
        selected = parse_ids(ids)
        if bulk_action.form is not None:
            return redirect(self.bulk_form_url(bulk_action, ids=",".join(map(str, selected)), url=self.list_url()))
        if bulk_action.takes_selection:
            selection = RecordSelection(self.record_type, self.model.id.in_(selected), selected, len(selected))
            commit_or_report(lambda: bulk_action.handler(self.record_type, selection, {}))
        else:
            commit_or_report(lambda: bulk_action.handler(self.record_type, selected))
        return None

    def whole_list_actions(self) -> list[BulkAction]:
        """Actions the list offers for every record matching its filter (all pages)."""
        return [
            offered
            for offered in self._bulk_actions.values()
            if offered.whole_list and self.bulk_action_allowed(offered)
        ]

    def bulk_form_url(self, bulk_action: BulkAction, **arguments: Any) -> str:
        return url_for(f"{self.endpoint}.bulk_form", action_name=bulk_action.name, **arguments)

    def whole_list_url(self, bulk_action: BulkAction) -> str:
        """The action's page for every record the list shows now (its filters and search)."""
        arguments = {key: value for key, value in request.args.items() if key.startswith("flt") or key == "search"}
        return self.bulk_form_url(bulk_action, scope="all", url=request.full_path, **arguments)

    def selection_from_request(self) -> RecordSelection:
        """``?ids=1,2,3`` (ticked rows) or ``?scope=all`` with the list's filter arguments."""
        if request.args.get("scope") == "all":
            view_args = self._get_list_extra_args()
            count, query = self.get_list(
                None, None, False, view_args.search, view_args.filters, execute=False, page_size=False
            )
            condition = self.model.id.in_(query.with_entities(self.model.id).order_by(None).statement)
            return RecordSelection(self.record_type, condition, None, count or 0)
        ids = parse_ids([value for value in request.args.get("ids", "").split(",") if value])
        if not ids:
            abort(400)
        return RecordSelection(self.record_type, self.model.id.in_(ids), ids, len(ids))

    @expose("/bulk/<action_name>/", methods=("GET", "POST"))
    def bulk_form(self, action_name: str):
        """The page of a bulk action with a form: its fields, how many records it will
        change (and the action's summary of what it will do to them), and running it
        (whole or not at all) on submit."""
        bulk_action = self._bulk_actions.get(action_name)
        if bulk_action is None:
            abort(404)
        if not self.is_action_allowed(action_name):
            abort(403)
        selection = self.selection_from_request()
        form_class = bulk_action.form() if bulk_action.form is not None else AdminForm
        form = form_class(request.form if request.method == "POST" else None)
        return_url = local_path_or(request.args.get("url"), self.list_url())
        if request.method == "POST" and form.validate():
            values = {key: field.data for key, field in form._fields.items() if key != "csrf_token"}
            # a refusal names the form's fields by their labels, and the records acted on
            labels = {"selection": gettext("Selected records")}
            labels.update((key, field.label.text) for key, field in form._fields.items())
            succeeded, message = attempt(lambda: bulk_action.handler(self.record_type, selection, values), labels)
            if succeeded:
                if message:
                    flash(message, "success")
                return redirect(return_url)
        return self.render(
            "opiekun/admin/bulk_form.html",
            form=form,
            bulk_action=bulk_action,
            selection=selection,
            summary=bulk_action.summary(self.record_type, selection) if bulk_action.summary else None,
            return_url=return_url,
        )

    # --- sections of the record page ---

    def record_sections(self, record: Any) -> list[tuple[str, Any]]:
        """What plugins show on the record's page below its fields (hook
        ``opiekun_admin_record_sections``); on an open deal the user may change, first
        the buttons that win or lose it."""
        sections = current_app.extensions["opiekun.plugins"].admin_record_sections(self.record_type, record)
        if isinstance(record, Deal) and record.status == "open" and self.change_refusal(record, "update") is None:
            sections = [(gettext("Close the deal"), self.closing_form(record)), *sections]
        return sections

    def closing_form(self, deal: Deal) -> Markup:
        """ "Won" and "Lost" (with the reason) for an open deal, posting to :meth:`close_view`."""
        return Markup(
            '<form method="POST" action="{action}" class="form-inline">'
            '<input type="hidden" name="csrf_token" value="{token}"><input type="hidden" name="id" value="{id}">'
            '<button type="submit" name="outcome" value="won" class="btn btn-success mr-3">{won}</button>'
            '<label class="mr-2" for="lost-reason">{reason}</label>'
            '<input type="text" id="lost-reason" name="reason" maxlength="500" class="form-control mr-2">'
            '<button type="submit" name="outcome" value="lost" class="btn btn-danger">{lost}</button></form>'
        ).format(
            action=url_for(".close_view"),
            token=generate_csrf(),
            id=deal.id,
            won=gettext("Won"),
            reason=gettext("Reason for losing"),
            lost=gettext("Lost"),
        )

    @expose("/close/", methods=("POST",))
    def close_view(self):
        """Win or lose a deal (:func:`record_rules.close_deal`: the deal-closed hook fires,
        as with the API's win and lose)."""
        deal_id, outcome = request.form.get("id", ""), request.form.get("outcome")
        deal = find_by_id(self.model, int(deal_id), for_change=True) if deal_id.isdigit() else None
        if not isinstance(deal, Deal) or outcome not in ("won", "lost"):
            abort(404)
        reason = request.form.get("reason", "").strip()[:500] or None
        refusal = self.change_refusal(deal, "update")
        if refusal is None and reason and CONTROL_CHARACTERS.search(reason):
            refusal = gettext("Control characters are not allowed (only tab and line breaks).")
        if refusal:
            flash(refusal, "error")
        else:
            commit_or_report(
                lambda: (
                    record_rules.close_deal(deal, outcome, reason)
                    and (gettext("The deal is won.") if outcome == "won" else gettext("The deal is lost."))
                )
            )
        return redirect(url_for(".details_view", id=deal.id))

    # --- links ---

    def owner_list_url(self, user_id: int) -> str:
        """This list filtered to the records ``user_id`` owns."""
        return self.filtered_url((OwnerIsFilter, user_id))


# --- users and roles ----------------------------------------------------------------------


def role_choices() -> list[tuple[str, str]]:
    """Built-in roles, then the custom roles of table ``roles``."""
    custom = db.session.execute(select(Role.name, Role.label).order_by(Role.label)).all()
    return [(name, value_label(name)) for name in BUILTIN_ROLES] + [(name, label) for name, label in custom]


def permission_choices() -> list[tuple[str, str]]:
    return [
        (name, f"{gettext(permission.label)} ({name})") for name, permission in sorted(declared_permissions().items())
    ]


def none_if_empty(value: str | None) -> str | None:
    """A select's empty choice as None (the default: the browser's language, the
    deployment's time zone)."""
    return value or None


def language_choices() -> list[tuple[str, str]]:
    """The panel's languages, each named in itself, after "the browser's"."""
    return [("", gettext("The browser's language")), *LANGUAGE_NAMES.items()]


def language_formatter(view, context, model, name) -> str:
    return LANGUAGE_NAMES.get(model.locale, gettext("The browser's language"))


def time_zone_choices() -> list[tuple[str, str]]:
    """Every time zone, after the deployment's default (named)."""
    default = gettext("The company's time zone (%(zone)s)", zone=deployment_time_zone())
    return [("", default), *((name, name) for name in time_zone_names())]


class NewPasswordField(PasswordField):
    """A new password when filled in (empty keeps the current one). The view sets it through
    :func:`opiekun.users.change_password`, not by populating the model."""

    def populate_obj(self, obj, name):
        pass


def strong_password(form, field) -> None:
    """A field validator: :mod:`opiekun.passwords`' rule, the one the API and CLI apply."""
    problem = password_problem(field.data) if field.data else None
    if problem is not None:
        raise ValidationError(translated(problem))


def obeying(rule: Callable, *args: Any, labels: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
    """Apply a service's ``rule`` inside a form hook: its refusal becomes the form's message
    (a ``ValidationError`` in the user's language), so the form says why and saves nothing."""
    try:
        return rule(*args, **kwargs)
    except DomainError as error:
        raise ValidationError(error_message(error, labels)) from None


class UserView(OpiekunModelView):
    """People who work in Opiekun. Users are never deleted: they are marked departed.

    Who may change whom (admins, roles, one's own account) is :mod:`opiekun.privileges`,
    the API's rules; passwords go through :func:`opiekun.users.change_password`."""

    required_permission = "users.manage"
    can_delete = False
    can_view_details = True
    details_template = "opiekun/admin/record_details.html"
    column_list = ("name", "email", "role", "status", "departed_at")
    column_searchable_list = ("name", "email")
    column_default_sort = "name"
    column_formatters = {"role": value_formatter, "status": value_formatter, "locale": language_formatter}
    column_details_list = ("name", "email", "role", "status", "locale", "time_zone", "departed_at", "created_at")
    form_columns = ("name", "email", "role", "locale", "time_zone", "password", "current_password")
    form_extra_fields = {
        "password": NewPasswordField(
            _l("Password"),
            validators=[Optional(), Length(max=200), strong_password],
            description=_l("At least 10 characters, not a common password; leave empty to keep the current one."),
        ),
        "current_password": NewPasswordField(
            _l("Current password"),
            validators=[Optional(), Length(max=200)],
            description=_l("Needed to change your own password."),
        ),
    }
    form_overrides = {"role": SelectField, "locale": SelectField, "time_zone": SelectField}
    form_args = {
        "role": {"choices": role_choices},
        "locale": {"choices": language_choices, "coerce": none_if_empty},
        "time_zone": {"choices": time_zone_choices, "coerce": none_if_empty},
    }

    def __init__(self):
        self.column_filters = [
            FilterEqual(User.status, _l("Status"), options=[(status, value_label(status)) for status in USER_STATUSES]),
            with_live_options(FilterEqual(User.role, _l("Role")), role_choices),
        ]
        super().__init__(User, db, name=_l("Users"), category=ADMINISTRATION_CATEGORY, endpoint="users")

    def create_form(self, obj=None):
        form = super().create_form(obj)
        del form.current_password
        return form

    def edit_form(self, obj=None):
        """The current password is asked for on one's own page only."""
        form = super().edit_form(obj)
        if obj is None or obj.id != current_user.id:
            del form.current_password
        return form

    def on_model_change(self, form, model: User, is_created: bool) -> None:
        actor = current_user._get_current_object()
        labels = {name: field.label.text for name, field in form._fields.items()}
        with db.session.no_autoflush:
            model.email = (model.email or "").strip().lower()
            obeying(require_unique_email, model.email, model.id, labels=labels)
            new_password = form.password.data or None
            if is_created:
                if not new_password:
                    raise ValidationError(gettext("A new user needs a password."))
                obeying(require_user_creation_allowed, actor, model.role, labels=labels)
            else:
                self.apply_account_changes(actor, model, new_password, labels)
            if new_password:
                asked = getattr(form, "current_password", None)  # None: not one's own page
                current_password = asked.data if asked is not None else None
                obeying(change_password, actor, model, new_password, current_password, labels=labels)

    @staticmethod
    def apply_account_changes(actor: User, user: User, new_password: str | None, labels: Mapping[str, str]) -> None:
        """Check the form's changes of an existing ``user`` with the API's rules, judged on
        the user as they were (the role is put back and given again through the shared rule)."""
        state = inspect(user)
        changes = {
            field: getattr(user, field)
            for field in ("name", "email", "role", "locale", "time_zone")
            if state.attrs[field].history.has_changes()
        }
        if new_password:
            changes["password"] = new_password
        previous_roles = state.attrs.role.history.deleted
        if previous_roles:
            user.role = previous_roles[0]
        obeying(require_user_change_allowed, actor, user, changes, labels=labels)
        if "role" in changes:
            try:
                change_role(user, changes["role"])
            except DomainError:
                raise ValidationError(gettext("The last active administrator must stay an administrator.")) from None

    def after_model_change(self, form, model: User, is_created: bool) -> None:
        """Whoever changed their own password stays logged in here (their other sessions and
        API tokens end with the old password)."""
        if model.id == current_user.id:
            login_user(model)

    def record_sections(self, user: User) -> list[tuple[str, Any]]:
        """The sections plugins add to a user's page (hook ``opiekun_admin_user_sections``)."""
        return current_app.extensions["opiekun.plugins"].admin_user_sections(user)

    def selected_users(self, ids: list[str]) -> list[User]:
        return list(db.session.scalars(select(User).where(User.id.in_(parse_ids(ids)))))

    @action(
        "mark_departed",
        _l("Mark as departed"),
        _l(
            "Mark the selected users as departed? They will no longer be able to log in; their records stay until transferred."
        ),
    )
    def action_mark_departed(self, ids: list[str]) -> None:
        def depart_all() -> str:
            leaving = [user for user in self.selected_users(ids) if user.status == "active"]
            for user in leaving:
                require_user_change_allowed(current_user, user, {"status": "departed"})
                mark_departed(user)
            return ngettext("%(num)d user marked as departed.", "%(num)d users marked as departed.", len(leaving))

        commit_or_report(depart_all)

    @action("reactivate", _l("Reactivate"), _l("Let the selected users log in again?"))
    def action_reactivate(self, ids: list[str]) -> None:
        def reactivate_all() -> str:
            returning = [user for user in self.selected_users(ids) if user.status != "active"]
            for user in returning:
                require_user_change_allowed(current_user, user, {"status": "active"})
                reactivate(user)
            return ngettext("%(num)d user reactivated.", "%(num)d users reactivated.", len(returning))

        commit_or_report(reactivate_all)


def permissions_formatter(view, context, model, name) -> str:
    return ", ".join(model.permissions or [])


class RoleView(OpiekunModelView):
    """Custom roles: a name and exactly the permissions an admin ticks."""

    required_permission = "roles.manage"
    column_list = ("name", "label", "permissions")
    column_formatters = {"permissions": permissions_formatter}
    form_columns = ("name", "label", "permissions")
    form_overrides = {"permissions": SelectMultipleField}
    form_args = {"permissions": {"choices": permission_choices, "widget": Select2Widget(multiple=True)}}

    def __init__(self):
        super().__init__(Role, db, name=_l("Roles"), category=ADMINISTRATION_CATEGORY, endpoint="roles")

    def on_model_change(self, form, model: Role, is_created: bool) -> None:
        """The API's rules (:mod:`opiekun.privileges`): a caller grants only permissions it
        holds, and does not change its own role or a role holding permissions it lacks."""
        if model.name in BUILTIN_ROLES:
            raise ValidationError(gettext("%(name)s is a built-in role; choose another name.", name=model.name))
        actor = current_user._get_current_object()
        if is_created:
            obeying(require_permissions_grantable, actor, model.permissions or [])
            return
        state = inspect(model)
        previous_names = state.attrs.name.history.deleted
        previous_permissions = state.attrs.permissions.history.deleted
        current_name = previous_names[0] if previous_names else model.name
        current_permissions = previous_permissions[0] if previous_permissions else model.permissions
        obeying(
            require_role_change_allowed,
            actor,
            current_name,
            current_permissions or [],
            model.permissions or [],
            renaming=bool(previous_names),
        )
        if previous_names and self.users_with_role(previous_names[0]):
            raise ValidationError(gettext("Users have this role; it cannot be renamed."))

    def on_model_delete(self, model: Role) -> None:
        obeying(
            require_role_change_allowed,
            current_user._get_current_object(),
            model.name,
            model.permissions or [],
            deleting=True,
        )
        if self.users_with_role(model.name):
            raise ValidationError(gettext("Users have this role; give them another role first."))

    @staticmethod
    def users_with_role(role_name: str) -> int:
        return db.session.scalar(select(func.count()).select_from(User).where(User.role == role_name))


# --- pipelines ----------------------------------------------------------------------------


def stages_formatter(view, context, model, name) -> str:
    return " → ".join(stage.name for stage in model.stages)


class PipelineView(EditableWithPermission, OpiekunModelView):
    """Sales pipelines and their ordered stages; everyone sees them, managers change them."""

    edit_permission = "pipelines.manage"
    column_list = ("name", "stages", "created_at")
    column_formatters = {"stages": stages_formatter}
    form_columns = ("name",)
    inline_models = [
        (
            PipelineStage,
            {
                "form_columns": ("id", "position", "name", "probability"),
                "column_labels": FIELD_LABELS,
                "form_args": {"position": {"validators": [Optional()], "label": _l("Order")}},
            },
        )
    ]

    def __init__(self):
        super().__init__(Pipeline, db, name=_l("Pipelines"), category=ADMINISTRATION_CATEGORY, endpoint="pipelines")

    def on_model_change(self, form, model: Pipeline, is_created: bool) -> None:
        """Stages without a position go last, in the order they were added."""
        positions = [stage.position for stage in model.stages if stage.position is not None]
        next_position = max(positions, default=0) + 1
        for stage in model.stages:
            if stage.position is None:
                stage.position, next_position = next_position, next_position + 1
        names = [stage.name for stage in model.stages]
        if len(set(names)) != len(names):
            raise ValidationError(gettext("Stage names must be unique within a pipeline."))


# --- plugins, notifications, home ---------------------------------------------------------


class PluginsView(LoginRequired, BaseView):
    """Every installed plugin: enabled (with its hooks) or off and why, and its schema
    (:mod:`opiekun.plugin_states`, what ``opiekun plugins`` prints)."""

    def __init__(self):
        super().__init__(name=_l("Plugins"), category=ADMINISTRATION_CATEGORY, endpoint="plugins")

    @expose("/")
    def index(self):
        from opiekun.plugin_states import plugin_states

        return self.render("opiekun/admin/plugins.html", states=plugin_states())


def notification_link_formatter(view, context, model, name):
    """The message, linked to the record it is about."""
    record_type = current_app.extensions["opiekun.record_types"].get(model.object_type or "")
    if record_type is None or model.object_id is None:
        return model.message
    return Markup('<a href="{}">{}</a>').format(record_type.admin_url(model.object_id), model.message)


def notification_kind_label(kind: str) -> str:
    """What a notification is about, in the user's language: a plugin names its kinds
    (``offboarding.departed``) in its catalog, with the kind as the msgid."""
    return gettext(kind)


def marked_read_message(count: int) -> str:
    return ngettext("%(num)d notification marked as read.", "%(num)d notifications marked as read.", count)


def read_formatter(view, context, model, name):
    return gettext("no") if model.read_at is None else model.read_at.strftime("%Y-%m-%d %H:%M")


class NotificationsView(OpiekunModelView):
    """The logged-in user's notifications; reading marks them read."""

    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = ("created_at", "kind", "message", "read_at")
    column_details_list = column_list
    column_default_sort = ("created_at", True)
    column_formatters = {
        "message": notification_link_formatter,
        "read_at": read_formatter,
        "kind": lambda view, context, model, name: notification_kind_label(model.kind),
    }
    list_template = "opiekun/admin/notifications_list.html"

    def __init__(self):
        self.column_filters = [EmptyFilter(Notification.read_at, _l("Unread"))]
        super().__init__(Notification, db, name=_l("Notifications"), endpoint="notifications")

    def mine(self, query):
        return query.filter(Notification.user_id == current_user.id)

    def get_query(self):
        return self.mine(super().get_query())

    def get_count_query(self):
        return self.mine(super().get_count_query())

    def get_one(self, id):
        notification = super().get_one(id)
        return notification if notification is not None and notification.user_id == current_user.id else None

    def mark_read(self, condition) -> int:
        """Mark the user's unread notifications matching ``condition`` read, in one UPDATE."""
        statement = (
            update(Notification)
            .where(Notification.user_id == current_user.id, Notification.read_at.is_(None), condition)
            .values(read_at=utcnow())
        )
        return db.session.execute(statement).rowcount

    @action("mark_read", _l("Mark as read"))
    def action_mark_read(self, ids: list[str]) -> None:
        selected = parse_ids(ids)
        commit_or_report(lambda: marked_read_message(self.mark_read(Notification.id.in_(selected))))

    @expose("/read-all/", methods=("POST",))
    def read_all(self):
        commit_or_report(lambda: marked_read_message(self.mark_read(Notification.id.is_not(None))))
        return redirect(self.get_url(".index_view"))


class HomeView(LoginRequired, AdminIndexView):
    """The start page: the panels of :mod:`opiekun.admin.home` — the user's own work, then
    the team's for whom may see it — from the core and the plugins."""

    @expose("/")
    def index(self):
        from opiekun.admin.home import core_panels, sees_team

        host = current_app.extensions["opiekun.plugins"]
        with replica_reads():  # counts over every record: the replica's work when there is one
            panels = [*core_panels(current_user), *host.admin_home_panels(current_user)]
        team_shown = sees_team(current_user)
        panels = sorted((panel for panel in panels if team_shown or not panel.team), key=lambda panel: panel.order)
        return self.render(
            "opiekun/admin/home.html",
            mine=[panel for panel in panels if not panel.team],
            team=[panel for panel in panels if panel.team],
        )
