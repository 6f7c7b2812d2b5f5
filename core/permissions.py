"""Permissions: named rights that the core and plugins declare, granted to roles.

The built-in roles get the permissions whose ``roles`` name them; ``admin`` has every
permission; a custom role (table ``roles``) has exactly the ones an admin ticked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import current_app
from sqlalchemy import select

from opiekun.extensions import db


@dataclass(frozen=True)
class Permission:
    """A right a role may have.

    :param name: dotted, prefixed by the plugin (``audit.view``); the core uses plain
        words (``users.manage``).
    :param label: what the admin sees next to the checkbox.
    :param roles: built-in roles that have it by default (``admin`` always has it).
    """

    name: str
    label: str
    roles: tuple[str, ...] = ()


def declared_permissions() -> dict[str, Permission]:
    """Every permission of the enabled plugins and the core, by name."""
    return current_app.extensions["opiekun.permissions"]


def permissions_of_role(role_name: str) -> frozenset[str]:
    from opiekun.models import BUILTIN_ROLES, Role

    declared = declared_permissions()
    if role_name == "admin":
        return frozenset(declared)
    if role_name in BUILTIN_ROLES:
        return frozenset(name for name, permission in declared.items() if role_name in permission.roles)
    granted = db.session.scalar(select(Role.permissions).where(Role.name == role_name)) or []
    return frozenset(name for name in granted if name in declared)


def has_permission(user, name: str) -> bool:
    """Whether ``user`` (active) holds the permission ``name``."""
    if user is None or not getattr(user, "is_authenticated", False) or user.status != "active":
        return False
    return name in permissions_of_role(user.role)


def role_exists(role_name: str) -> bool:
    from opiekun.models import BUILTIN_ROLES, Role

    return role_name in BUILTIN_ROLES or db.session.scalar(select(Role.id).where(Role.name == role_name)) is not None


def requires_permission(name: str):
    """Decorator for API views: :class:`~opiekun.errors.Refused` (403) unless the caller holds ``name``."""
    from opiekun.auth import current_api_user
    from opiekun.errors import Message, Refused

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not has_permission(current_api_user(), name):
                raise Refused(Message("this needs the permission %(permission)r", permission=name))
            return view(*args, **kwargs)

        return guarded

    return decorate
