"""Ownership settings: the options of the whole plugin (the owner roles, whether departed
users are listed) and the settings of each record type (owner required, release after days
without activity, which roles may change owners)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opiekun.plugin import SHOW_DEPARTED_USERS, Invalid, Message, Refused, SettingsStore, User, db, role_exists
from opiekun.plugins.ownership.lookups import acting_user, record_type_named
from opiekun.plugins.ownership.models import DEFAULT_ROLES, OwnershipSettings

#: The plugin's options, kept in the core's table ``settings`` under ``ownership.<name>``.
SETTINGS = SettingsStore("ownership")
#: The list of owner roles (default :data:`~opiekun.plugins.ownership.models.DEFAULT_ROLES`).
OWNER_ROLES = SETTINGS.setting("roles", default=list(DEFAULT_ROLES))


def owner_roles() -> list[str]:
    """The configurable list of owner roles (sales, legal…)."""
    return list(OWNER_ROLES.read())


def update_options(roles: Sequence[str] | None = None, show_departed: bool | None = None) -> None:
    """Store the options given (``None``: leave as it is): the owner roles (trimmed, without
    repeats, at least one) and whether departed users are listed (the core's
    :data:`~opiekun.users.SHOW_DEPARTED_USERS`, which the owner filters read too)."""
    if roles is not None:
        cleaned = list(dict.fromkeys(role.strip() for role in roles if role.strip()))
        if not cleaned:
            raise Invalid(
                Message("the list of owner roles cannot be empty"), {"roles": Message("name at least one role")}
            )
        OWNER_ROLES.write(cleaned)
    if show_departed is not None:
        SHOW_DEPARTED_USERS.write(bool(show_departed))
    db.session.flush()


def settings_for(object_type: str) -> OwnershipSettings:
    """The settings of a record type (defaults when never saved: owner optional, no
    release, everyone may change owners)."""
    row = db.session.get(OwnershipSettings, object_type)
    return (
        row
        if row is not None
        else OwnershipSettings(object_type=object_type, owner_required=False, inactivity_days=None, change_roles=None)
    )


def update_settings(object_type: str, values: Mapping[str, Any]) -> OwnershipSettings:
    """Change the record type's settings (the fields in ``values``). ``change_roles`` must
    name existing roles, and nobody lets their own role change owners."""
    record_type_named(object_type, status=404)
    if "change_roles" in values and values["change_roles"] is not None:
        unknown = [role for role in values["change_roles"] if not role_exists(role)]
        if unknown:
            raise Invalid(
                Message("unknown roles"),
                {"change_roles": Message("no role %(roles)s", roles=", ".join(map(repr, unknown)))},
            )
        values = {**values, "change_roles": list(dict.fromkeys(values["change_roles"]))}
    if "change_roles" in values:
        _require_no_own_widening(acting_user(), object_type, values["change_roles"])
    if values.get("owner_required") is None and "owner_required" in values:
        raise Invalid(Message("owner_required must be true or false"), {"owner_required": Message("must not be null")})
    row = db.session.get(OwnershipSettings, object_type)
    if row is None:
        row = OwnershipSettings(object_type=object_type, owner_required=False)
        db.session.add(row)
    for field, value in values.items():
        setattr(row, field, value)
    db.session.flush()
    return row


def _require_no_own_widening(user: User | None, object_type: str, change_roles: Sequence[str] | None) -> None:
    """Nobody widens their own role (:mod:`opiekun.privileges`): a holder of
    :data:`~opiekun.plugins.ownership.permissions.MANAGE_SETTINGS` whose role may not change owners of the type does not let it."""
    if user is None or user.role == "admin" or may_change_owners(user, object_type):
        return
    if change_roles is None or user.role in change_roles:
        raise Refused(
            Message("nobody lets their own role change owners; an admin does"),
            {"change_roles": Message("would let your own role (%(role)s) change owners", role=user.role)},
        )


def may_change_owners(user: User | None, object_type: str) -> bool:
    """The per-type "which roles may change owners" setting (admins always may)."""
    if user is None:
        return True  # jobs and the system
    allowed = settings_for(object_type).change_roles
    return allowed is None or user.role == "admin" or user.role in allowed
