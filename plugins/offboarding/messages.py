"""How offboarding's refusals name statuses: :func:`status_label` names a transfer's
status by its label in the admin ("gotowe"), by its code in the API (``done``). Counts are
said with the core's :class:`~opiekun.errors.PluralMessage`.
"""

from __future__ import annotations

from opiekun.plugin import Translatable


def status_label(status: str) -> Translatable:
    """A transfer's status in a refusal: ``done`` in the API, "gotowe" in the admin."""

    def label() -> str:
        from flask_babel import gettext

        return gettext(status)

    return Translatable(status, label)
