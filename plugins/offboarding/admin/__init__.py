"""Offboarding in the admin panel: the departed users with what they still have, one
user's page (the preview and the form that starts a transfer — to one user, or split per
record type and across a team), the list of transfers, a transfer's page (progress that
updates by itself, counts, resume, undo and what undo kept), and "Transfer to…" on every
record list for records of departed owners.

Views stay thin: planning, starting, resuming and undoing go through the plugin's domain
modules (:mod:`~opiekun.plugins.offboarding.planning`, :mod:`~opiekun.plugins.offboarding.running`,
:mod:`~opiekun.plugins.offboarding.undo`…), the same rules as the API. Every page needs the
permission ``offboarding.transfer`` (administrators hold it).
"""

from __future__ import annotations

from flask_admin import Admin, BaseView

from opiekun.plugins.offboarding.admin.departed_users import DepartedUsersView
from opiekun.plugins.offboarding.admin.transfers import TransferView


def admin_views(admin: Admin) -> list[BaseView]:
    """The plugin's views (their templates, in ``templates/offboarding/``, are found by the
    core's convention)."""
    transfer_list = TransferView()
    return [DepartedUsersView(transfer_list), transfer_list]
