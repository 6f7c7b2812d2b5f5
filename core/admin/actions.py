"""Bulk actions that plugins add to record lists in the admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import null, select

from opiekun.extensions import db
from opiekun.models import User


@dataclass(frozen=True)
class BulkAction:
    """An action offered on a record list for the selected rows.

    :param name: unique within the list (``ownership_change_owner``).
    :param label: the menu text; :param confirmation: asked before running, or ``None``.
    :param handler: ``handler(record_type, ids)`` does the work in the current transaction
        (the admin commits) and returns the message shown to the user. Actions with a
        ``form`` or ``whole_list`` are called ``handler(record_type, selection, values)``
        instead: a :class:`RecordSelection` and the form's data (``{}`` without a form).
    :param permission: only users holding it see and may run the action.
    :param form: returns a WTForms form class (subclass of
        :class:`opiekun.admin.forms.AdminForm`) whose fields are asked on a page of their own
        before the action runs ("Change owner…": the new owner, dates…).
    :param whole_list: the list also offers the action for *every* record matching its
        current filter and search, across all pages, not only the rows ticked on one page.
    :param allowed: ``allowed(user, record_type)``; when it answers ``False`` the action is
        neither shown nor run (a rule finer than a permission, e.g. a per-type setting).
    :param summary: ``summary(record_type, selection)`` says, on the action's page, what the
        action will do to the selection before it runs (which records, whose, how many of
        each kind): HTML (``Markup``) or text. ``None``: the page says only how many
        records are selected.
    """

    name: str
    label: str
    handler: Callable[..., str]
    confirmation: str | None = None
    permission: str | None = None
    form: Callable[[], type] | None = None
    whole_list: bool = False
    allowed: Callable[[Any, Any], bool] | None = None
    summary: Callable[[Any, RecordSelection], Any] | None = None

    @property
    def takes_selection(self) -> bool:
        """Whether the handler takes ``(record_type, selection, values)``."""
        return self.form is not None or self.whole_list


#: How many of the chosen records a bulk form lists by name (the rest are counted).
PREVIEWED_RECORDS = 20


@dataclass(frozen=True)
class RecordSelection:
    """The records a bulk action acts on: ``ids`` ticked on a page, or (``ids is None``)
    every record matching the list's filter — ``condition`` is a SQL condition on the
    record model either way, usable in set-based statements."""

    record_type: Any
    condition: Any
    ids: list[int] | None = None
    count: int = 0

    @property
    def whole_list(self) -> bool:
        return self.ids is None

    def first_records(self, limit: int = PREVIEWED_RECORDS) -> list[Any]:
        """The first ``limit`` records chosen, by id: ``(id, name, owner's name)`` rows (the
        owner's name is ``None`` for a record without owner or a type without owners), so
        that a bulk form says exactly which records will change."""
        model = self.record_type.model
        owner_id = getattr(model, "owner_id", None)
        owner_name = User.name if owner_id is not None else null()
        statement = select(model.id, model.display_name_expression().label("name"), owner_name.label("owner_name"))
        if owner_id is not None:
            statement = statement.outerjoin(User, User.id == owner_id)
        return list(db.session.execute(statement.where(self.condition).order_by(model.id).limit(limit)))
