"""Throttling of failed logins (Flask-Limiter) on ``POST /api/v1/auth/token`` and the admin's
``POST /login``.

Only FAILED attempts are counted (``deduct_when``): per account (the e-mail, normalized) and
per client address, both shared by the two login routes. Successful logins cost nothing, so
an office of many people behind one address is never slowed down. Past a limit every
attempt — even with the right password — answers 429 with ``Retry-After`` until the window
has room again: the API with its usual JSON error, the login page with a message.

Counters live in Redis when ``OPIEKUN_REDIS_URL`` is set (shared by every app process) and
in memory on the embedded default. Each app has a limiter of its own.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, current_app, flash, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded

from opiekun.api.errors import ApiError, error_response
from opiekun.config import Settings
from opiekun.errors import Message

#: The endpoints that check passwords.
LOGIN_ENDPOINTS = ("api.issue_token", "auth.login")
#: Where each app keeps its limiter.
EXTENSION = "opiekun.login_limiter"


def note_failed_login() -> None:
    """The current request tried credentials that did not log anyone in: count it."""
    g.failed_login = True


def login_failed(_response: Response) -> bool:
    """Flask-Limiter's ``deduct_when``: only failed attempts use up the limits."""
    return bool(g.get("failed_login"))


def account_key() -> str:
    """The account an attempt is for: the e-mail of the login form or of the JSON body,
    normalized as logging in compares it (empty: the limit is skipped)."""
    source = request.get_json(silent=True) if request.is_json else request.form
    email = source.get("email") if hasattr(source, "get") else None
    return f"account:{email.strip().lower()[:254]}" if isinstance(email, str) and email.strip() else ""


def client_address() -> str:
    """The caller's address (set ``OPIEKUN_TRUSTED_PROXIES`` behind a reverse proxy)."""
    return f"address:{request.remote_addr or 'unknown'}"


def init_login_throttle(app: Flask, settings: Settings) -> Limiter:
    """Give ``app`` its limiter and put both limits on the login routes (registered before)."""
    # if Redis goes away, each process counts in memory until it is back (no 500 on login)
    limiter = Limiter(
        key_func=client_address,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        key_prefix="opiekun-login",
        headers_enabled=False,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    per_account = limiter.shared_limit(
        settings.login_limit_per_account,
        scope="failed-logins-per-account",
        key_func=account_key,
        deduct_when=login_failed,
        methods=["POST"],
    )
    per_address = limiter.shared_limit(
        settings.login_limit_per_address,
        scope="failed-logins-per-address",
        key_func=client_address,
        deduct_when=login_failed,
        methods=["POST"],
    )
    for endpoint in LOGIN_ENDPOINTS:
        app.view_functions[endpoint] = per_account(per_address(app.view_functions[endpoint]))
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
    app.extensions[EXTENSION] = limiter
    return limiter


def retry_after_seconds() -> int:
    """Seconds until the breached limit lets the next attempt through (at least 1)."""
    breached = current_app.extensions[EXTENSION].current_limit
    reset_at = breached.reset_at if breached is not None else time.time() + 60
    return max(1, math.ceil(reset_at - time.time()))


def too_many_attempts(_error: RateLimitExceeded):
    """429 with ``Retry-After``: JSON on the API, the login page with a message in the admin."""
    seconds = retry_after_seconds()
    message = Message("too many failed login attempts; try again in %(seconds)s seconds", seconds=seconds)
    if request.path.startswith("/api/"):
        response = error_response(ApiError(message, status=429, code="too_many_requests"))
    else:
        from opiekun.auth import LoginForm

        flash(message.translated(), "error")
        response = current_app.make_response((render_template("opiekun/login.html", form=LoginForm()), 429))
    response.headers["Retry-After"] = str(seconds)
    return response
