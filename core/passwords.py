"""How strong a password must be: one rule for the API, the admin panel and the command line.

At least :data:`MIN_LENGTH` characters and not one of the common passwords people pick
(``common_passwords.txt``, compared without regard to case). The list holds only passwords
long enough to pass the length rule: shorter ones are refused by the length already.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from opiekun.errors import Invalid, Message

MIN_LENGTH = 10
DEFAULT_HASH_METHOD = "scrypt"
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


def hash_method() -> str:
    """The deployment's hashing method (:attr:`Settings.password_hash_method`), scrypt
    outside an app."""
    if not has_app_context():
        return DEFAULT_HASH_METHOD
    settings = current_app.extensions.get("opiekun.settings")
    return settings.password_hash_method if settings else DEFAULT_HASH_METHOD


def hash_password(password: str) -> str:
    """A salted hash of ``password`` to store, made with the deployment's method."""
    return generate_password_hash(password, method=hash_method())


def password_matches(password_hash: str, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made of (any method werkzeug
    knows, so hashes made before a change of method keep working)."""
    return bool(password_hash) and check_password_hash(password_hash, password)
