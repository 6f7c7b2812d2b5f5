"""Security headers on every response (admin pages, API answers, login, calendar feeds,
error pages): no framing, no MIME sniffing, a referrer only within the site, a Content
Security Policy, and HSTS when the deployment runs on HTTPS (``OPIEKUN_SECURE_COOKIES``).

One ``after_request`` rather than Flask-Talisman: the headers are a fixed handful, and
Talisman would also take over the cookie settings and force HTTPS redirects, which the
embedded http demo and deployments behind a TLS-terminating proxy do not want.
"""

from __future__ import annotations

from flask import Flask, Response

#: What the admin panel needs: its own scripts, styles, fonts and images (Flask-Admin's
#: bundled static files), plus inline scripts and styles — Flask-Admin's templates use
#: ``onclick`` handlers and ``javascript:void(0)`` links, which nonces cannot allow.
#: Nothing is loaded from other sites; no plugins, no <base>, forms post to this site only,
#: and no site may frame the pages (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: Browsers keep to HTTPS for a year once they have seen it (sent only on HTTPS deployments).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def install_security_headers(app: Flask, https: bool) -> None:
    """Add the headers to every response of ``app`` (a view may set its own values)."""
    headers = dict(SECURITY_HEADERS)
    if https:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
