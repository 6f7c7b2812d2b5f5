"""Rules about users that every surface (API, admin, CLI) shares: leaving, coming back,
changing role and password — and never leaving the deployment without an active admin.
Who may do which of these to whom is :mod:`opiekun.privileges`."""

from __future__ import annotations

from flask import current_app

from opiekun.auth import find_user_by_email
from opiekun.changes import current_actor
from opiekun.errors import Conflict, Invalid, Message
from opiekun.extensions import db
from opiekun.models import User, active_admin_count, utcnow
from opiekun.passwords import require_strong_password
from opiekun.stored_settings import StoredSetting

#: Whether the lists of users to filter by (the owner filters, ownership's reports) offer
#: users who have left too, as "departed: name (email)"; they do unless turned off.
SHOW_DEPARTED_USERS = StoredSetting("owner_filters.show_departed", default=True)

LAST_ADMIN_MESSAGE = Message("the last active admin must stay an active admin; make someone else admin first")


def show_departed_users() -> bool:
    """Whether lists of users to filter by offer departed users (:data:`SHOW_DEPARTED_USERS`)."""
    return bool(SHOW_DEPARTED_USERS.read())


def require_unique_email(email: str, user_id: int | None = None) -> None:
    """No other user may have ``email`` (compared case-insensitively): 409 otherwise.
    ``user_id`` is the user being changed (their own address is no conflict)."""
    existing = find_user_by_email(email)
    if existing is not None and existing.id != user_id:
        raise Conflict(Message("a user with this e-mail exists"), {"email": Message("already used by another user")})


def is_last_active_admin(user: User) -> bool:
    """Whether ``user`` is the only active admin left."""
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


def change_password(actor: User | None, user: User, new_password: str, current_password: str | None = None) -> None:
    """Give ``user`` the password ``new_password``, which must be strong enough (422 naming
    ``password``). Changing one's own needs the current one (422 naming
    ``current_password``); someone else's is a reset (whether ``actor`` may reset it is
    :func:`opiekun.privileges.require_user_change_allowed`'s question). Either way every API
    token and admin session of ``user`` stops working (``set_password`` bumps the token
    generation, which both carry)."""
    if actor is not None and actor.id == user.id:
        if not current_password:
            raise Invalid(
                Message("changing your own password needs your current password"),
                {"current_password": Message("required to change your own password")},
            )
        if not user.check_password(current_password):
            raise Invalid(Message("the current password is wrong"), {"current_password": Message("wrong password")})
    require_strong_password(new_password)
    user.set_password(new_password)
