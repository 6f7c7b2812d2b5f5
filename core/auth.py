"""Who is calling: admin sessions (Flask-Login) and API bearer tokens.

Tokens are signed (itsdangerous), carry the user id and the user's token generation, and
expire; changing the password or leaving bumps the generation, which revokes them all.
Departed users can neither log in nor use a token. Admin sessions are also kept on the
server (:mod:`opiekun.login_sessions`): logout and the idle timeout end them.
"""

from __future__ import annotations

import functools
import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from opiekun import login_sessions
from opiekun.changes import Actor, restore_actor, set_actor
from opiekun.extensions import db, login_manager
from opiekun.local_time import time_zone_name_of
from opiekun.login_throttle import note_failed_login
from opiekun.models import User
from opiekun.passwords import hash_method, password_matches
from opiekun.redirects import local_path_or, referrer_path_or

TOKEN_MAX_AGE_SECONDS = 30 * 24 * 3600
_TOKEN_SALT = "opiekun.api-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_TOKEN_SALT)


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "gen": user.token_generation or 0})


def user_for_token(token: str) -> User | None:
    try:
        payload = _serializer().loads(token, max_age=TOKEN_MAX_AGE_SECONDS)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict):
        return None
    user = db.session.get(User, payload.get("uid")) if isinstance(payload.get("uid"), int) else None
    if user is None or user.status != "active" or (user.token_generation or 0) != payload.get("gen"):
        return None
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


@functools.cache
def _dummy_password_hash(method: str) -> str:
    """A hash made like users' hashes, of a password nobody knows."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None`` (and the failed attempt is
    counted by the login throttle). An unknown e-mail costs one password check too (against
    a dummy hash), so the time of the answer does not tell which e-mails have accounts."""
    user = find_user_by_email(email)
    if user is None or not user.password_hash:
        password_matches(_dummy_password_hash(hash_method()), password)
        user = None
    elif not user.check_password(password) or user.status != "active":
        user = None
    if user is None:
        note_failed_login()
    return user


def current_api_user() -> User | None:
    """The user of the current API request (set by the API's authentication)."""
    return g.get("api_user")


def act_as_user(user: User | None) -> None:
    """Make ``user`` the actor of every change in this request (reset at teardown)."""
    if user is not None:
        g.actor_token = set_actor(Actor(user_id=user.id, user_name=user.name))


def reset_actor(_error=None) -> None:
    token = g.pop("actor_token", None)
    if token is not None:
        restore_actor(token)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.token_generation or 0) != (generation or "0"):
        return None
    if login_sessions.live_session_of(user) is None:  # logged out, or idle too long
        return None
    return user


# --- login pages for the admin panel ------------------------------------------------------

pages = Blueprint("auth", __name__, template_folder="templates")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


@pages.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_sessions.start(user)
            login_user(user)
            return redirect(local_path_or(request.args.get("next"), url_for("admin.index")))
        flash(_l("Wrong e-mail or password, or the account is no longer active."), "error")
    return render_template("opiekun/login.html", form=form)


@pages.route("/logout", methods=["POST"])
def logout():
    """Log out (a form with the CSRF token posts here): the session ends on the server too."""
    login_sessions.end()
    logout_user()
    return redirect(url_for("auth.login"))


@pages.route("/language/<code>", methods=["POST"])
def switch_language(code: str):
    """Choose the language (a form with the CSRF token posts here), then go back to the
    page the form was on (``next``) or came from."""
    if code in current_app.config["LANGUAGES"]:
        session["language"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    fallback = referrer_path_or(url_for("admin.index"))
    return redirect(local_path_or(request.form.get("next"), fallback))


def select_locale() -> str:
    """The user's chosen language, else the browser's, else Polish."""
    if not has_request_context():
        return "pl"
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or "pl"


def select_time_zone() -> str:
    """The time zone times are shown in: the user's, else the deployment's."""
    user = current_user if has_request_context() and getattr(current_user, "is_authenticated", False) else None
    return time_zone_name_of(user)


def admin_actor_middleware() -> None:
    """before_request for non-API pages: changes made in the admin carry its user."""
    if not request.path.startswith("/api/") and current_user and current_user.is_authenticated:
        act_as_user(current_user)
