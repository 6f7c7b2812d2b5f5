"""Redirecting to a place the request names (``?next=``, ``?url=``, the referrer) without
becoming an open redirect: only a path on this site is followed, anything else falls back.

Browsers are lenient: they drop tabs and newlines anywhere in a URL, read ``\\`` as ``/`` and
``//host`` as another site, so ``/%09/evil.example`` ends up at ``//evil.example``. A
target is accepted only when it is plainly a path of this site: it starts with one ``/``,
holds no backslash, whitespace or control character, and still starts with one ``/``
when percent-decoded once more.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import request


def _is_plain_path(target: str) -> bool:
    """``/a/b?c=d`` yes; ``//x``, ``/\\x``, ``http:…``, ``x``, ``/\\t/x`` no."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(character.isspace() or unicodedata.category(character).startswith("C") for character in target)
    )


def is_local_path(target: str | None) -> bool:
    """``target`` is a path on this site and nothing a browser could read as another one."""
    if not target or not _is_plain_path(target):
        return False
    decoded = unquote(target)
    if decoded.startswith("//") or decoded.startswith("/\\") or any(ord(character) < 0x20 for character in decoded):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_path_or(target: str | None, fallback: str) -> str:
    """``target`` when it is a local path (see :func:`is_local_path`), else ``fallback``."""
    return target if is_local_path(target) else fallback


def referrer_path_or(fallback: str) -> str:
    """The path of the page the request came from, when it is a page of this site."""
    referrer = request.referrer or ""
    if not referrer.startswith(request.host_url):
        return fallback
    return local_path_or("/" + referrer.removeprefix(request.host_url), fallback)
