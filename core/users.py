"""Rules about users that every surface (API, admin, CLI) shares: leaving, coming back,
changing role — and never leaving the deployment without an active admin."""
from __future__ import annotations

from flask import current_app

from opiekun.api.errors import Conflict, Message
from opiekun.changes import current_actor
from opiekun.extensions import db
from opiekun.models import User, active_admin_count, utcnow

LAST_ADMIN_MESSAGE = Message("the last active admin must stay an active admin; make someone else admin first")


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
