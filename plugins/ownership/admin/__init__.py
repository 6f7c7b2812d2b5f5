"""Ownership in the admin panel: "Change owner…" on every record list (ticked rows or every
record matching the filter), the "Owners" section of every record's page with its period
forms, the "Records by owner" report, and the settings (admins only). Thin: the rules live
below the web, in the plugin's other modules."""

from __future__ import annotations

from flask_admin import BaseView

from opiekun.plugins.ownership.admin.change_owner import change_owner_action
from opiekun.plugins.ownership.admin.owner_periods import OwnerPeriodsView, owners_section
from opiekun.plugins.ownership.admin.portfolio import RecordsByOwnerView
from opiekun.plugins.ownership.admin.record_form import lock_owner_field
from opiekun.plugins.ownership.admin.settings import OwnershipSettingsView


def admin_views() -> list[BaseView]:
    """The plugin's own pages."""
    return [RecordsByOwnerView(), OwnershipSettingsView(), OwnerPeriodsView()]


__all__ = ["admin_views", "change_owner_action", "lock_owner_field", "owners_section"]
