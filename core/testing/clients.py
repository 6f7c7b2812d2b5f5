"""The two seats a test speaks from: an integration calling the JSON API with bearer
tokens (:class:`ApiClient`), and a person in front of the admin panel, logging in through
the form and posting forms with their CSRF token (:class:`AdminBrowser`)."""

from __future__ import annotations

import html
import json
import re

from opiekun.extensions import db
from opiekun.models import User
from opiekun.testing.apps import PASSWORD


class ApiClient:
    """Speaks the JSON API as an integration does: bearer tokens, JSON bodies."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.tokens: dict[int, str] = {}

    def create_user(self, email: str, role: str = "user", name: str | None = None, password: str = PASSWORD) -> dict:
        with self.app.app_context():
            user = User(
                email=email, name=name or email.split("@")[0].replace(".", " ").title(), role=role, status="active"
            )
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            return {"id": user.id, "email": user.email, "name": user.name, "role": user.role}

    def token_for(self, user: dict, password: str = PASSWORD) -> str:
        response = self.http.post("/api/v1/auth/token", json={"email": user["email"], "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    def headers(self, user: dict | None) -> dict:
        if user is None:
            return {}
        if user["id"] not in self.tokens:
            self.tokens[user["id"]] = self.token_for(user)
        return {"Authorization": f"Bearer {self.tokens[user['id']]}"}

    def request(self, method: str, path: str, as_user: dict | None, **kwargs):
        headers = {**self.headers(as_user), **kwargs.pop("headers", {})}
        return self.http.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, as_user, **kwargs):
        return self.request("GET", path, as_user, **kwargs)

    def post(self, path, as_user, json=None, **kwargs):
        return self.request("POST", path, as_user, json=json, **kwargs)

    def patch(self, path, as_user, json=None, **kwargs):
        return self.request("PATCH", path, as_user, json=json, **kwargs)

    def delete(self, path, as_user, **kwargs):
        return self.request("DELETE", path, as_user, **kwargs)


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class AdminBrowser:
    """A person in front of the admin panel: a cookie jar, forms filled in with the page's
    CSRF token, and the page's text to read."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, url, **kwargs):
        return self.http.get(url, **kwargs)

    def csrf_token(self, url: str) -> str:
        page = self.get(url).get_data(as_text=True)
        match = CSRF_FIELD.search(page)
        assert match, f"no CSRF token on {url}"
        return match.group(1)

    def submit(self, url: str, data: dict, *, form_url: str | None = None, **kwargs):
        """POST ``data`` as the form on ``form_url`` (default: ``url``) would, with its token."""
        token = self.csrf_token(form_url or url)
        return self.http.post(url, data={"csrf_token": token, **data}, **kwargs)

    def log_in(self, user: dict, password: str = PASSWORD):
        return self.submit("/login", {"email": user["email"], "password": password})

    def log_out(self):
        """The menu's "Log out": a form posting the CSRF token."""
        return self.submit("/logout", {}, form_url="/login")

    def switch_language(self, code: str, **kwargs):
        """The menu's language switch: a form posting the CSRF token."""
        return self.submit(f"/language/{code}", {}, form_url="/login", **kwargs)

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return html.unescape(response.get_data(as_text=True))

    def filter_arg(self, list_url: str, label: str) -> str:
        """The URL argument of the list filter shown as ``label`` (as the filter menu builds it)."""
        page = self.get(list_url).get_data(as_text=True)
        groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1)))
        return groups[label][0]["arg"]

    def run_action(self, list_url: str, action: str, ids: list[int]):
        return self.submit(
            f"{list_url}action/",
            {"action": action, "rowid": [str(i) for i in ids]},
            form_url=list_url,
            follow_redirects=True,
        )


def flashed(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def logged_in(app, user: dict, password: str = PASSWORD) -> AdminBrowser:
    """A browser with ``user`` logged in through the login form."""
    browser = AdminBrowser(app)
    response = browser.log_in(user, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser
