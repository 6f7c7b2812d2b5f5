"""How strong a password must be: one rule for the API, the admin panel and the command line.

At least :data:`MIN_LENGTH` characters and not one of the common passwords people pick
(``common_passwords.txt``, compared without regard to case). The list holds only passwords
long enough to pass the length rule: shorter ones are refused by the length already.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

from opiekun.errors import Invalid, Message

MIN_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (comment lines start with ``#``)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> Message | None:
    """Why ``password`` is too weak, or ``None`` when it will do."""
    if len(password) < MIN_LENGTH:
        return Message("at least %(count)s characters", count=MIN_LENGTH)
    if password.lower() in common_passwords():
        return Message("too common: this password is on the list of passwords people use most; choose another")
    return None


def require_strong_password(password: str, field: str = "password") -> None:
    """Raise :class:`~opiekun.errors.Invalid` naming ``field`` if ``password`` is too weak."""
    problem = password_problem(password)
    if problem is not None:
        raise Invalid(Message("the password is too weak"), {field: problem})
