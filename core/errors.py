"""The domain's refusals: what a rule of the core or of a plugin answers when it says no.

They know nothing of HTTP. Services raise them; the API answers each kind with its status
(:mod:`opiekun.api.errors` holds the one table of statuses), the admin shows them as a form's
errors or a flash message, in the user's language. A partner's plugin raises them too::

    from opiekun.errors import Invalid, Message

    raise Invalid(Message("the contract ends before it starts"),
                  {"end_date": Message("before the start date")})

Write their texts as :class:`Message` so that the admin can translate them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self


class Message(str):
    """A refusal's text that the API answers in English and the admin shows in the user's
    language: the English text, interpolated (``Message("no transfer %(id)s", id=7)`` is
    ``"no transfer 7"``), which remembers its msgid and values for :meth:`translated`.
    Put it where a plain string goes (an error's message, a field's problem); extract it
    for translation with ``pybabel extract -k Message``."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Self:
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid, text.values = msgid, values
        return text

    def translated(self) -> str:
        """The text in the current user's language (the English text without a catalog);
        values that are themselves translatable (a :class:`Message`, a :class:`Translatable`)
        are put in translated."""
        from flask_babel import gettext

        return gettext(self.msgid, **{name: translated(value) for name, value in self.values.items()})


class PluralMessage(Message):
    """A :class:`Message` that says a count: its text takes the number's plural form —
    English's two in the API, the user's language's in the admin (Polish has three: "1
    opiekun", "2 opiekunów"…). Extract it with ``pybabel extract -k PluralMessage:1,2``.

    ``PluralMessage("%(num)d owner is active", "%(num)d owners are active", 3)`` is
    "3 owners are active" in the API; the admin shows ``ngettext`` of it in the user's
    language (``num`` is the count, as in Flask-Babel's ``ngettext``)."""

    singular: str
    plural: str
    num: int

    def __new__(cls, singular: str, plural: str, num: int, **values: Any) -> Self:
        text = super().__new__(cls, singular if num == 1 else plural, num=num, **values)
        text.singular, text.plural, text.num = singular, plural, num
        return text

    def translated(self) -> str:
        from flask_babel import ngettext

        values = {name: translated(value) for name, value in self.values.items() if name != "num"}
        return ngettext(self.singular, self.plural, self.num, **values)


class Translatable(str):
    """A value of a :class:`Message` that the API shows as it is (record type names:
    ``"person, lead"``) and the admin in the user's language (``"Osoby, Leady"``): the text,
    and a function giving its translation."""

    in_language: Callable[[], str]

    def __new__(cls, text: str, in_language: Callable[[], str]) -> Translatable:
        value = super().__new__(cls, text)
        value.in_language = in_language
        return value

    def translated(self) -> str:
        return self.in_language()


def translated(text: str) -> str:
    """``text`` in the user's language when it is a :class:`Message` or a
    :class:`Translatable`, else as it is."""
    return text.translated() if isinstance(text, (Message, Translatable)) else text


class DomainError(Exception):
    """A rule refused what was asked; nothing was changed.

    :param message: what went wrong, for people (a :class:`Message` to be translatable).
    :param fields: the problem of each input field at fault, by field name.
    :param details: more facts for programs (the API adds them to its error body, e.g. the
        conflicting rows of a 409).
    """

    def __init__(self, message: str, fields: Mapping[str, str] | None = None, details: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})
        self.details: dict[str, Any] = dict(details or {})


class Refused(DomainError):
    """The actor is not allowed to do this (a missing permission, someone else's record)."""


class NotFound(DomainError):
    """What the request names does not exist (or is not visible to the actor)."""


class Conflict(DomainError):
    """The request does not fit the current state (a deal already won, a taken name)."""


class Invalid(DomainError):
    """Input values are not acceptable; ``fields`` names each bad field and its problem."""


class Gone(DomainError):
    """Something that existed is no longer there for good (an expired audit export)."""


__all__ = [
    "Conflict",
    "DomainError",
    "Gone",
    "Invalid",
    "Message",
    "NotFound",
    "PluralMessage",
    "Refused",
    "Translatable",
    "translated",
]
