"""Passwords (issue 14): one's own change needs the current password; a reset of someone
else's does not, and ends that user's API tokens and admin sessions; one strength rule
(10+ characters, not a common password) for the API, the admin panel and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opiekun.cli import create_admin_command
from opiekun.extensions import db
from opiekun.models import User
from opiekun.testing.apps import PASSWORD
from opiekun.testing.clients import flashed, logged_in

NEW_PASSWORD = "zupelnie-nowe-haslo-7"
WEAK_PASSWORDS = ["krotkie-1", "123456789", "1234567890", "Password123", "QWERTYUIOP", "haslo12345"]


def password_hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).password_hash


def token_works(api, token_headers: dict) -> bool:
    return api.http.get("/api/v1/companies", headers=token_headers).status_code == 200


# --- one's own password needs the current one ---------------------------------------------------


@pytest.mark.parametrize(
    "current, problem", [(None, "required to change your own password"), ("not-my-password-1", "wrong password")]
)
def test_changing_ones_own_password_needs_the_current_one(app, api, seller, current, problem):
    before = password_hash(app, seller["id"])
    body = {"password": NEW_PASSWORD} | ({"current_password": current} if current is not None else {})
    response = api.patch(f"/users/{seller['id']}", seller, json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["fields"]["current_password"] == problem
    assert password_hash(app, seller["id"]) == before
    assert token_works(api, api.headers(seller))


def test_the_current_password_changes_ones_own_and_ends_the_old_tokens(app, api, manager):
    old_headers = api.headers(manager)
    response = api.patch(
        f"/users/{manager['id']}", manager, json={"password": NEW_PASSWORD, "current_password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    assert not token_works(api, old_headers)
    assert (
        api.http.post("/api/v1/auth/token", json={"email": manager["email"], "password": NEW_PASSWORD}).status_code
        == 200
    )


# --- a reset by an admin or user manager -------------------------------------------------------


def test_an_admin_resets_a_password_without_the_current_one_and_ends_tokens_and_sessions(app, api, admin, seller):
    old_headers = api.headers(seller)
    old_session = logged_in(app, seller)
    assert old_session.get("/admin/").status_code == 200
    weak = api.patch(f"/users/{seller['id']}", admin, json={"password": "1234567890"})
    assert weak.status_code == 422 and "password" in weak.get_json()["error"]["fields"]
    assert token_works(api, old_headers) and old_session.get("/admin/").status_code == 200, (
        "a refused reset changes nothing"
    )

    assert api.patch(f"/users/{seller['id']}", admin, json={"password": NEW_PASSWORD}).status_code == 200
    assert not token_works(api, old_headers)
    assert old_session.get("/admin/").status_code == 302, "the old admin session cookie no longer works"
    assert api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": PASSWORD}).status_code == 401
    assert logged_in(app, seller, password=NEW_PASSWORD).get("/admin/").status_code == 200


# --- one strength rule everywhere --------------------------------------------------------------


@pytest.mark.parametrize("weak", WEAK_PASSWORDS)
def test_weak_passwords_are_refused_by_the_api(app, api, admin, seller, weak):
    created = api.post("/users", admin, json={"email": "nowy@firma.example", "name": "Nowy", "password": weak})
    assert created.status_code == 422 and "password" in created.get_json()["error"]["fields"], created.get_json()
    before = password_hash(app, seller["id"])
    reset = api.patch(f"/users/{seller['id']}", admin, json={"password": weak})
    assert reset.status_code == 422 and "password" in reset.get_json()["error"]["fields"]
    own = api.patch(f"/users/{seller['id']}", seller, json={"password": weak, "current_password": PASSWORD})
    assert own.status_code == 422 and "password" in own.get_json()["error"]["fields"]
    assert password_hash(app, seller["id"]) == before
    assert api.get("/users?q=nowy@", admin).get_json()["total"] == 0


def test_weak_passwords_are_refused_by_the_admin_form_in_polish(app, admin, seller):
    browser = logged_in(app, admin)
    before = password_hash(app, seller["id"])
    short = browser.submit(
        f"/admin/users/edit/?id={seller['id']}",
        {"name": seller["name"], "email": seller["email"], "role": "user", "password": "krotkie-1"},
    )
    assert short.status_code == 200 and "co najmniej 10 znaków" in flashed(short)
    common = browser.submit(
        "/admin/users/new/", {"name": "Nowy", "email": "nowy@firma.example", "role": "user", "password": "Password123"}
    )
    assert "zbyt popularne" in flashed(common)
    assert password_hash(app, seller["id"]) == before
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "nowy@firma.example")) is None
    assert "Co najmniej 10 znaków, nie popularne hasło" in browser.text(f"/admin/users/edit/?id={seller['id']}")


def test_weak_passwords_are_refused_by_create_admin(app):
    runner = app.test_cli_runner()
    weak = runner.invoke(create_admin_command, ["--email", "root@firma.example", "--password", "1234567890"])
    assert weak.exit_code != 0 and "--password" in weak.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "root@firma.example")) is None
    strong = runner.invoke(create_admin_command, ["--email", "root@firma.example", "--password", NEW_PASSWORD])
    assert strong.exit_code == 0, strong.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "root@firma.example")) == "admin"


# --- the admin's own user page -------------------------------------------------------------------


def test_the_admin_asks_for_the_current_password_on_ones_own_page_only(app, api, admin, seller):
    browser = logged_in(app, admin)
    assert 'name="current_password"' in browser.text(f"/admin/users/edit/?id={admin['id']}")
    assert 'name="current_password"' not in browser.text(f"/admin/users/edit/?id={seller['id']}")
    assert 'name="current_password"' not in browser.text("/admin/users/new/")
    own = {"name": admin["name"], "email": admin["email"], "role": "admin", "password": NEW_PASSWORD}
    before = password_hash(app, admin["id"])

    missing = browser.submit(f"/admin/users/edit/?id={admin['id']}", own)
    assert "Obecne hasło: wymagane do zmiany własnego hasła" in flashed(missing)
    wrong = browser.submit(f"/admin/users/edit/?id={admin['id']}", {**own, "current_password": "not-my-password-1"})
    assert "Obecne hasło: błędne hasło" in flashed(wrong)
    assert password_hash(app, admin["id"]) == before

    changed = browser.submit(f"/admin/users/edit/?id={admin['id']}", {**own, "current_password": PASSWORD})
    assert changed.status_code == 302
    assert password_hash(app, admin["id"]) != before
    assert browser.get("/admin/").status_code == 200, "whoever changed their password stays logged in here"
    assert (
        api.http.post("/api/v1/auth/token", json={"email": admin["email"], "password": NEW_PASSWORD}).status_code == 200
    )
