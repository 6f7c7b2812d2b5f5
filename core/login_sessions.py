"""Admin login sessions that the server can end.

Flask's session cookie is signed but kept by the browser only, so on its own a copied
cookie would keep working after logout. Each login therefore gets a row in
``login_sessions``; the cookie carries a random secret naming that row (the table keeps
only its hash). A request is logged in only while the row exists and was used within the
idle timeout (``OPIEKUN_SESSION_IDLE_MINUTES``). Logging out deletes the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, g, request, session
from sqlalchemy import delete, select, update

from opiekun.extensions import db
from opiekun.models import LoginSession, User, utcnow

#: The key of the session cookie holding the secret.
SESSION_KEY = "opiekun_sid"
#: ``last_seen_at`` is written at most this often (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)


def idle_timeout() -> dt.timedelta:
    return current_app.permanent_session_lifetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User) -> None:
    """A new server-side session for ``user`` (who has just logged in), named in the
    cookie; sessions that have gone idle (anyone's) are cleared away."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(LoginSession).where(LoginSession.last_seen_at < now - idle_timeout()))
    db.session.add(LoginSession(secret_hash=_hash(secret), user_id=user.id, created_at=now, last_seen_at=now))
    db.session.commit()
    session[SESSION_KEY] = secret
    session.permanent = True  # the cookie expires after the idle timeout too


def live_session_of(user: User) -> LoginSession | None:
    """The server-side session the request's cookie names, if it belongs to ``user`` and
    has not gone idle (remembered for :func:`keep_alive`)."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str) or not secret:
        return None
    login_session = db.session.scalar(select(LoginSession).where(LoginSession.secret_hash == _hash(secret)))
    if (
        login_session is None
        or login_session.user_id != user.id
        or login_session.last_seen_at < utcnow() - idle_timeout()
    ):
        return None
    g.login_session = login_session
    return login_session


def keep_alive() -> None:
    """before_request: a request of a logged-in user moves its session's idle clock on."""
    from flask_login import current_user

    if request.path.startswith("/api/") or not current_user or not current_user.is_authenticated:
        return
    login_session = g.get("login_session")
    now = utcnow()
    if login_session is not None and now - login_session.last_seen_at >= TOUCH_EVERY:
        db.session.execute(update(LoginSession).where(LoginSession.id == login_session.id).values(last_seen_at=now))
        db.session.commit()


def end() -> None:
    """Log out on the server: the session the cookie names is deleted."""
    secret = session.pop(SESSION_KEY, None)
    if isinstance(secret, str):
        db.session.execute(delete(LoginSession).where(LoginSession.secret_hash == _hash(secret)))
        db.session.commit()
