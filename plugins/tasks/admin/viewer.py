"""The logged-in user as the task views see them: who, what they may see (once per
request), and running a change so that its refusals name the task fields."""

from __future__ import annotations

from flask import g
from flask_login import current_user

from opiekun.plugin import User
from opiekun.plugin.admin import attempt
from opiekun.plugins.tasks.admin.labels import FIELD_LABELS
from opiekun.plugins.tasks.services.visibility import Visibility


def viewer() -> User:
    """The logged-in user (the object, not the proxy)."""
    return current_user._get_current_object()


def visibility() -> Visibility:
    """The logged-in user's visibility, once per request."""
    if "tasks_visibility" not in g:
        g.tasks_visibility = Visibility.of(viewer())
    return g.tasks_visibility


def attempt_task_change(work):
    """The core's :func:`~opiekun.admin.views.attempt`, naming fields with the task labels."""
    return attempt(work, FIELD_LABELS)
