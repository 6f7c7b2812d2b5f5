"""The core's permissions, declared through the same hook plugins use."""

from collections.abc import Iterable

from opiekun import hookimpl
from opiekun.permissions import Permission


@hookimpl
def opiekun_permissions() -> Iterable[Permission]:
    return [
        Permission("users.manage", "Create users, change their roles, mark them departed", ()),
        Permission("roles.manage", "Define custom roles and their permissions", ()),
        Permission("records.edit_others", "Change and delete records owned by other users", ("manager",)),
        Permission("records.delete", "Delete records", ("manager", "user")),
        Permission("pipelines.manage", "Create and change sales pipelines", ("manager",)),
        Permission("jobs.view_all", "See every background job's progress", ("manager",)),
        Permission("dashboard.team", "See the team's figures on the start page", ("manager",)),
    ]
