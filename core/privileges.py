"""Privilege boundaries: who may change which user or role, and which permissions a caller
may hand out. Every surface (the API, the admin panel) asks these functions before it
changes a user or a custom role, so that no privilege can widen itself:

- only admins give the admin role or change an admin (any field, the password too);
- a caller changes only users and roles whose permissions it holds itself, and grants —
  to a role, or to a user through the role it gives them — only permissions it holds;
- nobody changes their own role or status, nor the permissions of their own role.

``actor`` ``None`` is the system (jobs, the operator's command line): not bound by them.
Refusals are :class:`~opiekun.errors.Refused` (the API's 403).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opiekun.errors import Conflict, Message, Refused
from opiekun.models import User
from opiekun.permissions import declared_permissions, has_permission, permissions_of_role
from opiekun.users import LAST_ADMIN_MESSAGE, is_last_active_admin

#: What a user without ``users.manage`` may change on their own account.
OWN_ACCOUNT_FIELDS = frozenset({"name", "password", "locale", "time_zone"})
#: What nobody changes on their own account (another user manager does it).
NOT_ON_ONESELF = frozenset({"role", "status"})


def lacking(actor: User, permissions: Iterable[str]) -> list[str]:
    """The ``permissions`` that ``actor`` does not hold, sorted. Admins hold them all, also
    those of plugins that are off now; for others, a permission no enabled plugin declares
    grants nothing and is not counted."""
    if actor.role == "admin":
        return []
    return sorted((set(permissions) & declared_permissions().keys()) - permissions_of_role(actor.role))


def _listed(permissions: list[str]) -> str:
    return ", ".join(permissions)


# --- users -----------------------------------------------------------------------------------


def require_user_change_allowed(actor: User | None, user: User, changes: Mapping[str, Any]) -> None:
    """May ``actor`` make ``changes`` (the new values of the fields that change: ``name``,
    ``email``, ``role``, ``status``, ``password``) to ``user`` (as it is before them)?"""
    if actor is None:
        return
    if actor.id == user.id:
        _require_own_change_allowed(actor, user, changes)
        return
    if not has_permission(actor, "users.manage"):
        raise Refused(Message("you may change only your own name, password, language and time zone"))
    require_user_within_reach(actor, user.role)
    if "role" in changes:
        require_role_assignable(actor, changes["role"])


def _require_own_change_allowed(actor: User, user: User, changes: Mapping[str, Any]) -> None:
    if not has_permission(actor, "users.manage") and changes.keys() - OWN_ACCOUNT_FIELDS:
        raise Refused(Message("you may change only your own name, password, language and time zone"))
    own = sorted(NOT_ON_ONESELF & changes.keys())
    if own:
        if is_last_active_admin(user):  # the more useful answer for the last admin
            raise Conflict(LAST_ADMIN_MESSAGE, {field: Message("last active admin") for field in own})
        raise Refused(
            Message("nobody changes their own role or status; another user manager does it"),
            {field: Message("not on your own account") for field in own},
        )


def require_user_within_reach(actor: User | None, role: str) -> None:
    """``actor`` may change a user of ``role``: only admins change admins, and nobody changes
    a user whose role holds permissions ``actor`` lacks (they could take the account over)."""
    if actor is None:
        return
    if role == "admin" and actor.role != "admin":
        raise Refused(Message("only admins may change an admin or reset an admin's password"))
    missing = lacking(actor, permissions_of_role(role))
    if missing:
        raise Refused(
            Message(
                "you may not change a user whose role has permissions you lack: %(permissions)s",
                permissions=_listed(missing),
            )
        )


def require_role_assignable(actor: User | None, role: str) -> None:
    """``actor`` may give ``role`` to a user: only admins give ``admin``, and the role must
    hold no permission ``actor`` lacks (that would widen what ``actor`` can reach)."""
    if actor is None:
        return
    if role == "admin" and actor.role != "admin":
        raise Refused(Message("only admins may give the admin role"), {"role": Message("only admins give it")})
    missing = lacking(actor, permissions_of_role(role))
    if missing:
        raise Refused(
            Message("you may not give a role with permissions you lack"),
            {"role": Message("has permissions you lack: %(permissions)s", permissions=_listed(missing))},
        )


def require_user_creation_allowed(actor: User | None, role: str) -> None:
    """``actor`` may create a user of ``role`` (``users.manage`` is checked by the caller)."""
    require_role_assignable(actor, role)


# --- custom roles ----------------------------------------------------------------------------


def require_permissions_grantable(actor: User | None, permissions: Iterable[str]) -> None:
    """``actor`` may put ``permissions`` in a custom role: it holds every one of them."""
    if actor is None:
        return
    missing = lacking(actor, permissions)
    if missing:
        raise Refused(
            Message("you may grant only permissions you hold yourself"),
            {"permissions": Message("you lack %(permissions)s", permissions=_listed(missing))},
        )


def require_role_change_allowed(
    actor: User | None,
    role_name: str,
    current_permissions: Iterable[str],
    new_permissions: Iterable[str] | None = None,
    *,
    renaming: bool = False,
    deleting: bool = False,
) -> None:
    """``actor`` may change the custom role ``role_name`` (which now grants
    ``current_permissions``): give it ``new_permissions`` (``None``: unchanged), rename it
    or delete it. A role holding permissions ``actor`` lacks is out of its reach; its own
    role's permissions, name and existence are not ``actor``'s to change."""
    if actor is None:
        return
    current = set(current_permissions)
    missing = lacking(actor, current)
    if missing:
        raise Refused(
            Message(
                "you may not change a role with permissions you lack: %(permissions)s", permissions=_listed(missing)
            )
        )
    changes_permissions = new_permissions is not None and set(new_permissions) != current
    if role_name == actor.role and (changes_permissions or renaming or deleting):
        raise Refused(Message("nobody changes their own role; another user who manages roles does it"))
    if changes_permissions and new_permissions is not None:
        require_permissions_grantable(actor, new_permissions)
