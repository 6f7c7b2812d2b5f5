"""The right the ownership plugin checks (administrators hold every permission)."""

from opiekun.plugin import Permission

#: Change the per-record-type settings and the list of owner roles (admins only by default).
MANAGE_SETTINGS = Permission(
    "ownership.settings", "Change ownership settings (owner required, release, who may change owners)", ()
)

ALL = (MANAGE_SETTINGS,)
