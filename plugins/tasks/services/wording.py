"""Codes of the tasks plugin named in refusals — sharing levels, deal outcomes — as people
read them: the API's English keeps the code (``read``, ``won``), the admin shows its label
in the user's language ("tylko do odczytu", "wygrana"). Each is a
:class:`~opiekun.errors.Translatable` value of a :class:`~opiekun.errors.Message`; record
types are named the same way by the core's :func:`opiekun.labels.record_type_label`."""

from __future__ import annotations

from opiekun.plugin import Translatable

#: The sharing levels' texts (the admin's labels of the same values, in the catalog).
LEVEL_TEXTS = {"none": "none", "free_busy": "free/busy", "read": "read only", "full": "full access"}
#: The deal outcomes' texts (in the catalog).
OUTCOME_TEXTS = {"won": "won", "lost": "lost"}


def _gettext(text: str) -> str:
    from flask_babel import gettext

    return gettext(text)


def level_label(level: str) -> Translatable:
    """A sharing level: ``read`` in the API, "tylko do odczytu" in the admin."""
    return Translatable(level, lambda: _gettext(LEVEL_TEXTS[level]) if level in LEVEL_TEXTS else level)


def outcome_label(outcome: str) -> Translatable:
    """A deal's outcome: ``won`` in the API, "wygrana" in the admin."""
    return Translatable(outcome, lambda: _gettext(OUTCOME_TEXTS[outcome]) if outcome in OUTCOME_TEXTS else outcome)
