"""Bulk actions that plugins add to record lists in the admin."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BulkAction:
    """An action offered on a record list for the selected rows.

    :param name: unique within the list (``ownership_change_owner``).
    :param label: the menu text; :param confirmation: asked before running, or ``None``.
    :param handler: ``handler(record_type, ids)`` does the work in the current transaction
        (the admin commits) and returns the message shown to the user.
    :param permission: only users holding it see and may run the action.
    """

    name: str
    label: str
    handler: Callable[[Any, list[int]], str]
    confirmation: str | None = None
    permission: str | None = None
