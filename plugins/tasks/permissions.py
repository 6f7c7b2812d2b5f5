"""The rights the tasks plugin checks (administrators hold every permission), and the
check that refuses an action without one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opiekun.plugin import Message, Permission, Refused, has_permission

if TYPE_CHECKING:
    from opiekun.plugin import User

SEE_ALL = Permission("tasks.see_all", "See and change every user's tasks, private ones too", ())
CONFIGURE = Permission("tasks.configure", "Configure task types, statuses, templates and post-sale templates", ())
ASSIGN = Permission("tasks.assign", "Create tasks for other users", ("manager",))
SHARE_OTHERS = Permission("tasks.share_others", "Set how any user's tasks are shared", ())

ALL = (SEE_ALL, CONFIGURE, ASSIGN, SHARE_OTHERS)


def require_permission(user: User, permission: Permission) -> None:
    """Refuse (403) unless ``user`` holds ``permission``."""
    if not has_permission(user, permission.name):
        raise Refused(Message("this needs the permission %(permission)r", permission=permission.name))
