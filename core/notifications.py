"""In-app notifications: a message to users, each written in their own language (the
text is made when the notification is, so in the recipient's ``locale``, not the actor's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from opiekun.models import Notification, User


def language_of(locale: str | None) -> str:
    """The language a user reads the app in: theirs when the app has it, else the default."""
    languages = current_app.config.get("LANGUAGES") or ()
    return locale if locale in languages else current_app.config.get("BABEL_DEFAULT_LOCALE", "pl")


def active_administrators(session: Session, *also: int | None) -> list[tuple[int, str | None]]:
    """``(id, locale)`` of every active administrator, and of the active users ``also``
    names (e.g. whoever set the thing up), each once."""
    others = [user_id for user_id in also if user_id is not None]
    condition = User.role == "admin"
    if others:
        condition = condition | User.id.in_(others)
    rows = session.execute(select(User.id, User.locale).where(condition, User.status == "active"))
    return [(user_id, locale) for user_id, locale in rows]


def notify_users(
    session: Session,
    recipients: Iterable[tuple[int, str | None]],
    kind: str,
    text: Callable[[], str],
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> int:
    """One notification per recipient (``(user id, locale)``), its message ``text()``
    called once per language (call ``gettext`` inside it). Returns how many were added."""
    messages: dict[str, str] = {}
    added = 0
    for user_id, locale in recipients:
        language = language_of(locale)
        if language not in messages:
            with force_locale(language):
                messages[language] = text()
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                message=messages[language],
                object_type=object_type,
                object_id=object_id,
                data=dict(data) if data is not None else None,
            )
        )
        added += 1
    return added
