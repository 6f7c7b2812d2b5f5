"""The words the ownership pages show for stored values (kinds, overlap policies, access)
and for a period, in the user's language."""

from __future__ import annotations

from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l

from opiekun.plugins.ownership import settings
from opiekun.plugins.ownership.models import OwnerAssignment

KIND_LABELS = {"primary": _l("Primary owner"), "deputy": _l("Deputy")}
POLICY_LABELS = {
    "keep": _l("Keep the current owner"),
    "warn": _l("Warn and change nothing"),
    "replace": _l("Replace without warning"),
}
ACCESS_LABELS = {"write": _l("Read and change"), "read": _l("Read only")}
#: The default owner roles in the user's language; roles an admin adds are shown as typed.
ROLE_LABELS = {"sales": _l("sales"), "service": _l("service"), "legal": _l("legal"), "finance": _l("finance")}


def choices(labels: dict) -> list[tuple[str, str]]:
    """``labels`` as the choices of a select field."""
    return [(value, str(label)) for value, label in labels.items()]


def role_label(role: str) -> str:
    """An owner role as the user reads it."""
    return str(ROLE_LABELS.get(role, role))


def role_choices() -> list[tuple[str, str]]:
    """The owner roles of the settings."""
    return [(role, role_label(role)) for role in settings.owner_roles()]


def period_text(assignment: OwnerAssignment) -> str:
    """``1.01.2026 – 30.06.2026`` in the user's format (or ``– bezterminowo``)."""
    end = format_date(assignment.valid_to, "short") if assignment.valid_to else gettext("indefinite")
    return f"{format_date(assignment.valid_from, 'short')} – {end}"
