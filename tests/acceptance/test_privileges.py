"""No privilege widens itself, tried as an attacker inside the team would: a holder of
``roles.manage`` or ``users.manage`` climbing to admin, taking over a stronger account by
resetting its password, a plain user creating records for others where only managers may
name owners, and a deputy taking a record over. API and admin panel alike."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Company, Role, User
from tests.acceptance.test_admin_panel import flashed, logged_in
from tests.conftest import PASSWORD

NEW_PASSWORD = "Zielony-Dzwon-42"


@pytest.fixture
def custom_role(api, admin):
    """A custom role with the permissions given, held by a new user: that user."""

    def make(name: str, permissions: list[str]) -> dict:
        created = api.post("/roles", admin, json={"name": name, "label": name.title(), "permissions": permissions})
        assert created.status_code == 201, created.get_json()
        return api.create_user(f"{name}@firma.example", role=name)

    return make


def stored_user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def role_permissions(app, name: str) -> list[str]:
    with app.app_context():
        return db.session.scalar(select(Role.permissions).where(Role.name == name))


# --- roles.manage: no climbing through one's own role ------------------------------------------


def test_a_role_manager_cannot_grant_itself_more_nor_become_admin(app, api, custom_role):
    climber = custom_role("rolemaster", ["roles.manage"])
    refused = api.patch("/roles/rolemaster", climber, json={"permissions": ["roles.manage", "users.manage"]})
    assert refused.status_code == 403
    assert role_permissions(app, "rolemaster") == ["roles.manage"]
    assert api.patch(f"/users/{climber['id']}", climber, json={"role": "admin"}).status_code == 403

    # a new role may carry only what the caller holds; a role for someone else likewise
    refused = api.post("/roles", climber, json={"name": "helper", "label": "H", "permissions": ["users.manage"]})
    assert refused.status_code == 403 and "users.manage" in refused.get_json()["error"]["fields"]["permissions"]
    assert api.post("/roles", climber, json={"name": "helper", "label": "H", "permissions": ["roles.manage"]}).status_code == 201
    assert api.patch("/roles/helper", climber, json={"permissions": ["roles.manage", "records.edit_others"]}).status_code == 403
    assert role_permissions(app, "helper") == ["roles.manage"]
    assert stored_user(app, climber["id"]).role == "rolemaster"


def test_an_admin_may_still_shape_any_custom_role(app, api, admin, custom_role):
    custom_role("rolemaster", ["roles.manage"])
    answer = api.patch("/roles/rolemaster", admin, json={"permissions": ["roles.manage", "users.manage"]})
    assert answer.status_code == 200 and role_permissions(app, "rolemaster") == ["roles.manage", "users.manage"]


# --- users.manage: no admin takeover, no widening through a role -----------------------------


def test_a_user_manager_cannot_touch_an_admin_nor_hand_out_stronger_roles(app, api, admin, manager, seller, custom_role):
    plain_user = {role["name"]: role for role in api.get("/roles", admin).get_json()["items"]}["user"]["permissions"]
    hr = custom_role("hr", ["users.manage", *plain_user])  # may look after plain users
    before = stored_user(app, admin["id"])
    for change in ({"password": NEW_PASSWORD}, {"name": "Przejęty"}, {"email": "hr2@firma.example"}, {"status": "departed"}):
        response = api.patch(f"/users/{admin['id']}", hr, json=change)
        assert response.status_code == 403, (change, response.get_json())
    after = stored_user(app, admin["id"])
    assert (after.password_hash, after.name, after.email, after.status) == (before.password_hash, before.name, before.email, "active")
    assert api.token_for(admin)  # the admin's password still works

    assert api.patch(f"/users/{seller['id']}", hr, json={"role": "admin"}).status_code == 403
    widening = api.patch(f"/users/{seller['id']}", hr, json={"role": "manager"})  # manager holds what hr lacks
    assert widening.status_code == 403 and "role" in widening.get_json()["error"]["fields"]
    assert api.post("/users", hr, json={"email": "x@firma.example", "name": "X", "password": NEW_PASSWORD,
                                         "role": "admin"}).status_code == 403
    # a manager holds permissions hr does not: hr cannot reset the manager's password either
    assert api.patch(f"/users/{manager['id']}", hr, json={"password": NEW_PASSWORD}).status_code == 403
    assert stored_user(app, seller["id"]).role == "user"
    assert api.get("/users?q=x@firma", admin).get_json()["total"] == 0
    assert api.patch(f"/users/{seller['id']}", hr, json={"password": NEW_PASSWORD}).status_code == 200, "plain users: yes"


def test_a_user_manager_cannot_take_over_a_stronger_account(app, api, seller, custom_role):
    hr = custom_role("hr", ["users.manage"])  # lacks what plain users hold (e.g. records.delete)
    refused = api.patch(f"/users/{seller['id']}", hr, json={"password": NEW_PASSWORD})
    assert refused.status_code == 403 and "records.delete" in refused.get_json()["error"]["message"]
    assert api.token_for(seller)


def test_a_reset_by_an_administrator_ends_the_users_tokens_and_sessions(app, api, admin, seller):
    old_token_headers = api.headers(seller)
    seller_in_panel = logged_in(app, seller)
    assert seller_in_panel.get("/admin/company/").status_code == 200

    answer = api.patch(f"/users/{seller['id']}", admin, json={"password": NEW_PASSWORD})  # no current password needed
    assert answer.status_code == 200, answer.get_json()
    assert api.http.get("/api/v1/companies", headers=old_token_headers).status_code == 401
    assert seller_in_panel.get("/admin/company/").status_code == 302, "the old session ends"
    assert api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": NEW_PASSWORD}).status_code == 200


# --- passwords --------------------------------------------------------------------------------


def test_changing_ones_own_password_needs_the_current_one(app, api, seller):
    before = stored_user(app, seller["id"]).password_hash
    for body in ({"password": NEW_PASSWORD}, {"password": NEW_PASSWORD, "current_password": "not-my-password"}):
        response = api.patch(f"/users/{seller['id']}", seller, json=body)
        assert response.status_code == 422 and "current_password" in response.get_json()["error"]["fields"]
    assert stored_user(app, seller["id"]).password_hash == before
    assert api.patch(f"/users/{seller['id']}", seller, json={"password": NEW_PASSWORD, "current_password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("weak", ["krotkie-1", "qwertyuiop", "Password123", "1q2w3e4r5t"])
def test_weak_passwords_are_refused_everywhere(app, api, admin, seller, weak):
    created = api.post("/users", admin, json={"email": "nowy@firma.example", "name": "Nowy", "password": weak})
    assert created.status_code == 422 and "password" in created.get_json()["error"]["fields"]
    own = api.patch(f"/users/{seller['id']}", seller, json={"password": weak, "current_password": PASSWORD})
    assert own.status_code == 422 and "password" in own.get_json()["error"]["fields"]
    assert api.get("/users", admin).get_json()["total"] == 2
    browser = logged_in(app, admin)
    form = browser.submit("/admin/users/new/", {"name": "Nowy", "email": "nowy@firma.example", "role": "user", "password": weak})
    assert form.status_code == 200 and "hasło jest zbyt słabe: Hasło: " in flashed(form)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "nowy@firma.example")) is None


def test_the_panel_asks_for_the_current_password_on_ones_own_account(app, admin):
    browser = logged_in(app, admin)
    url = f"/admin/users/edit/?id={admin['id']}"
    fields = {"name": admin["name"], "email": admin["email"], "role": "admin", "password": NEW_PASSWORD}
    refused = browser.submit(url, fields)
    assert "aby zmienić własne hasło, podaj obecne hasło: Twoje obecne hasło: brak albo błędne" in flashed(refused)
    changed = browser.submit(url, {**fields, "current_password": PASSWORD})
    assert changed.status_code == 302
    assert browser.get("/admin/users/").status_code == 200, "the admin stays logged in after changing their password"
    logged_in(app, admin, password=NEW_PASSWORD)


# --- the same rules in the panel ---------------------------------------------------------------


def test_the_panel_refuses_the_same_escalations(app, api, admin, seller, custom_role):
    hr = custom_role("hr", ["users.manage", "roles.manage"])
    browser = logged_in(app, hr)
    edit_admin = browser.submit(f"/admin/users/edit/?id={admin['id']}", {"name": admin["name"], "email": admin["email"],
                                                                        "role": "admin", "password": NEW_PASSWORD})
    assert "tylko administrator może zmieniać administratora lub nadawać rolę administratora" in flashed(edit_admin)
    promote = browser.submit(f"/admin/users/edit/?id={seller['id']}", {"name": seller["name"], "email": seller["email"],
                                                                      "role": "admin"})
    assert "tylko administrator może zmieniać administratora" in flashed(promote)
    depart_admin = browser.run_action("/admin/users/", "mark_departed", [admin["id"]])
    assert "tylko administrator może zmieniać administratora" in flashed(depart_admin)

    own_role = browser.submit("/admin/roles/edit/?id=1", {"name": "hr", "label": "Hr",
                                                         "permissions": ["users.manage", "roles.manage", "records.edit_others"]})
    assert "nie możesz zmieniać własnej roli" in flashed(own_role)
    new_role = browser.submit("/admin/roles/new/", {"name": "szef", "label": "Szef", "permissions": ["pipelines.manage"]})
    assert "możesz nadawać tylko uprawnienia, które sam masz" in flashed(new_role)

    assert (stored_user(app, admin["id"]).status, stored_user(app, seller["id"]).role) == ("active", "user")
    assert api.token_for(admin)
    assert role_permissions(app, "hr") == ["roles.manage", "users.manage"]
    with app.app_context():
        assert db.session.scalar(select(Role).where(Role.name == "szef")) is None


# --- owners: change_roles on create, deputies edit but do not take over -----------------------


def test_only_the_chosen_roles_name_someone_else_owner_of_a_new_record(app, api, admin, manager, seller, other_seller):
    api.patch("/ownership/settings/company", admin, json={"change_roles": ["manager"]})
    refused = api.post("/companies", seller, json={"name": "Cudza", "owner_id": other_seller["id"]})
    assert refused.status_code == 403
    assert api.post("/companies", seller, json={"name": "Moja", "owner_id": seller["id"]}).status_code == 201
    assert api.post("/companies", seller, json={"name": "Domyślna"}).status_code == 201
    assert api.post("/companies", manager, json={"name": "Dla Olgi", "owner_id": other_seller["id"]}).status_code == 201

    form = logged_in(app, seller).submit("/admin/company/new/", {"name": "Cudza z panelu", "owner": str(other_seller["id"])})
    assert form.status_code == 200 and "nie może zmieniać opiekunów" in flashed(form)
    with app.app_context():
        names = set(db.session.scalars(select(Company.name)))
    assert names == {"Moja", "Domyślna", "Dla Olgi"}


def test_a_deputy_edits_a_record_but_neither_takes_it_over_nor_deletes_it(app, api, seller, other_seller):
    firm = api.post("/companies", seller, json={"name": "Stal-Bud"}).get_json()
    deputy = api.post("/ownership/assignments", seller, json={"object_type": "company", "object_ids": [firm["id"]],
                                                              "user_id": other_seller["id"], "kind": "deputy", "access": "write"})
    assert deputy.status_code == 201, deputy.get_json()
    assert api.patch(f"/companies/{firm['id']}", other_seller, json={"city": "Kraków"}).status_code == 200

    takeover = api.patch(f"/companies/{firm['id']}", other_seller, json={"owner_id": other_seller["id"], "city": "Gdańsk"})
    assert takeover.status_code == 403 and "owner_id" in takeover.get_json()["error"]["fields"]
    assert api.delete(f"/companies/{firm['id']}", other_seller).status_code == 403
    for kind in ("primary", "deputy"):  # nor through the owners' own endpoint
        refused = api.post("/ownership/assignments", other_seller, json={
            "object_type": "company", "object_ids": [firm["id"]], "user_id": other_seller["id"], "kind": kind,
            "on_overlap": "replace"})
        assert refused.status_code == 403, (kind, refused.get_json())

    browser = logged_in(app, other_seller)
    form = browser.submit(f"/admin/company/edit/?id={firm['id']}", {"name": "Stal-Bud", "owner": str(other_seller["id"])})
    assert "możesz edytować ten rekord (company), ale nie przekazać go innemu opiekunowi" in flashed(form)
    deleted = browser.submit("/admin/company/delete/", {"id": str(firm["id"])}, form_url="/admin/company/")
    assert deleted.status_code == 302
    stored = api.get(f"/companies/{firm['id']}", seller).get_json()
    assert (stored["owner_id"], stored["city"]) == (seller["id"], "Kraków")
