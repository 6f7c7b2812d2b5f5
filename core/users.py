"""Rules about users that every surface (API, admin, CLI) shares: who may change whom,
passwords, leaving, coming back, changing role — and never leaving the deployment without
an active admin.

No privilege widens itself: only admins make admins or touch an admin; a caller hands out
only permissions it holds itself (through a user's role or a custom role's permissions);
nobody changes their own role or status. ``actor=None`` is the operator at the command
line (or a job), who is trusted.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from flask import current_app

from opiekun.api.errors import Conflict, Forbidden, Invalid, Message
from opiekun.changes import current_actor
from opiekun.extensions import db
from opiekun.models import User, active_admin_count, utcnow
from opiekun.permissions import has_permission, permissions_of_role

LAST_ADMIN_MESSAGE = Message("the last active admin must stay an active admin; make someone else admin first")
PASSWORD_MIN_LENGTH = 10
#: Fields a user may change on their own account; the rest need ``users.manage``.
OWN_ACCOUNT_FIELDS = frozenset({"name", "password"})


# --- who may change whom ----------------------------------------------------------------------


def missing_permissions(actor: User, role_name: str) -> list[str]:
    """The permissions of ``role_name`` that ``actor`` does not hold itself (sorted)."""
    return sorted(permissions_of_role(role_name) - permissions_of_role(actor.role))


def require_may_grant(actor: User | None, permissions: Iterable[str]) -> None:
    """A caller grants only permissions it holds itself (403 naming the others)."""
    if actor is None or actor.role == "admin":
        return
    beyond = sorted(set(permissions) - permissions_of_role(actor.role))
    if beyond:
        raise Forbidden(Message("you may grant only permissions you hold yourself"),
                        {"permissions": Message("not yours to grant: %(permissions)s", permissions=", ".join(beyond))})


def require_may_change_user(actor: User | None, user: User | None, fields: Iterable[str], new_role: str | None = None) -> None:
    """Whether ``actor`` may change ``fields`` of ``user`` (``None``: a new user) and give
    it ``new_role``; 403 with the reason otherwise.

    - on one's own account: name and password always, e-mail with ``users.manage``; never
      one's own role or status;
    - anyone else needs ``users.manage``; only an admin changes an admin or gives the admin
      role; and a non-admin changes only users (and gives only roles) whose permissions it
      holds itself — else resetting a stronger user's password would take over its rights.
    """
    if actor is None:
        return
    fields = set(fields)
    if user is not None and user.id == actor.id:
        own = fields & {"role", "status"}
        if own:
            raise Forbidden(Message("you may not change your own role or status; ask another administrator"),
                            {field: Message("your own") for field in sorted(own)})
        if fields - OWN_ACCOUNT_FIELDS and not has_permission(actor, "users.manage"):
            raise Forbidden(Message("you may change only your own name and password"))
        return
    if not has_permission(actor, "users.manage"):
        raise Forbidden(Message("only users with the permission 'users.manage' may do this"))
    if actor.role == "admin":
        return
    if (user is not None and user.role == "admin") or new_role == "admin":
        raise Forbidden(Message("only an admin may change an admin or give the admin role"))
    if user is not None and missing_permissions(actor, user.role):
        raise Forbidden(Message("this user holds permissions you do not have (%(permissions)s); only an admin may change them",
                                permissions=", ".join(missing_permissions(actor, user.role))))
    if new_role is not None and missing_permissions(actor, new_role):
        raise Forbidden(Message("you may grant only permissions you hold yourself"),
                        {"role": Message("the role %(role)s grants permissions you do not hold: %(permissions)s",
                                         role=new_role, permissions=", ".join(missing_permissions(actor, new_role)))})


def require_may_change_role(actor: User | None, role_name: str, added_permissions: Iterable[str]) -> None:
    """Whether ``actor`` may change the custom role ``role_name`` so that it gains
    ``added_permissions``: never one's own role, and only permissions one holds."""
    if actor is not None and actor.role == role_name:
        raise Forbidden(Message("you may not change your own role; ask another administrator"))
    require_may_grant(actor, added_permissions)


# --- passwords -------------------------------------------------------------------------------


@cache
def common_passwords() -> frozenset[str]:
    """Passwords people pick most often (zxcvbn's list of the 30,000 most common, lower
    case), long enough to pass the length rule, which must not be accepted either."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word for word in FREQUENCY_LISTS["passwords"] if len(word) >= PASSWORD_MIN_LENGTH)


def password_problem(password: str) -> Message | None:
    """Why ``password`` is too weak, or ``None``: at least ``PASSWORD_MIN_LENGTH``
    characters and not one of the most common passwords."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return Message("at least %(count)d characters", count=PASSWORD_MIN_LENGTH)
    if password.lower() in common_passwords():
        return Message("one of the most common passwords; choose another")
    return None


def require_strong_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem is not None:
        raise Invalid(Message("the password is too weak"), {field: problem})


def set_password(actor: User | None, user: User, password: str, current_password: str | None = None) -> None:
    """Give ``user`` a new password. On one's own account the current password is needed;
    an administrator resetting someone else's does not need theirs. Either way every API
    token and admin session of ``user`` ends (the token generation moves on)."""
    require_strong_password(password)
    if actor is not None and actor.id == user.id and not (current_password and user.check_password(current_password)):
        raise Invalid(Message("to change your own password, give your current password"),
                      {"current_password": Message("missing or wrong")})
    user.set_password(password)


# --- leaving, coming back, roles --------------------------------------------------------------


def is_last_active_admin(user: User) -> bool:
    return user.role == "admin" and user.status == "active" and active_admin_count() <= 1


def mark_departed(user: User) -> None:
    """The user leaves: no more logins or tokens; their items stay until transferred.
    Plugins hear of it through the user-departed hook, in the same transaction."""
    if user.status == "departed":
        return
    if is_last_active_admin(user):
        raise Conflict(LAST_ADMIN_MESSAGE, {"status": Message("last active admin")})
    user.status = "departed"
    user.departed_at = utcnow()
    user.token_generation = (user.token_generation or 0) + 1
    db.session.flush()
    current_app.extensions["opiekun.plugins"].user_departed(db.session, user, current_actor())


def reactivate(user: User) -> None:
    """A departed user comes back (re-hired): they may log in again."""
    user.status, user.departed_at = "active", None


def change_role(user: User, role: str) -> None:
    """Give ``user`` the role ``role`` (which must exist: see ``role_exists``)."""
    if role != user.role and is_last_active_admin(user):
        raise Conflict(LAST_ADMIN_MESSAGE, {"role": Message("last active admin")})
    user.role = role
