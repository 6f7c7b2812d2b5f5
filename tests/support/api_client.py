"""The API client tests speak through, as an integration does."""

from __future__ import annotations

from opiekun.extensions import db
from opiekun.models import User
from tests.support.apps import PASSWORD


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
