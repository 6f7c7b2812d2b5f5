"""No privilege widens itself (issue 14): only admins give the admin role or change an admin,
a caller grants and reaches only permissions it holds, and nobody changes their own role,
status or their role's permissions — over the API and in the admin's Users and Roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Role, User
from opiekun.testing.clients import flashed, logged_in

NEW_PASSWORD = "zupelnie-nowe-haslo-7"


def make_role(api, admin, name: str, *permissions: str) -> None:
    response = api.post("/roles", admin, json={"name": name, "label": name.title(), "permissions": list(permissions)})
    assert response.status_code == 201, response.get_json()


def user_row(app, user_id: int) -> dict:
    with app.app_context():
        user = db.session.get(User, user_id)
        return {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "status": user.status,
            "password_hash": user.password_hash,
            "token_generation": user.token_generation,
        }


def role_permissions(app, name: str) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalar(select(Role.permissions).where(Role.name == name)))


@pytest.fixture
def role_keeper(api, admin) -> dict:
    """A user whose custom role may manage roles, and nothing else."""
    make_role(api, admin, "role_keeper", "roles.manage")
    return api.create_user("keeper@firma.example", role="role_keeper", name="Rita Role")


@pytest.fixture
def people_manager(api, admin) -> dict:
    """A user whose custom role manages users and roles (an HR lead), but is not admin; it
    holds what the built-in ``user`` role holds, so plain users are within its reach."""
    make_role(api, admin, "people", "users.manage", "roles.manage", "pipelines.manage", "records.delete")
    return api.create_user("hr@firma.example", role="people", name="Halina Kadry")


@pytest.fixture
def auditor(api, admin) -> dict:
    """A user whose role holds a permission the people manager lacks."""
    make_role(api, admin, "auditors", "audit.view")
    return api.create_user("audit@firma.example", role="auditors", name="Adam Audytor")


# --- the reproductions ------------------------------------------------------------------


def test_a_role_manager_cannot_add_users_manage_to_its_own_role(app, api, role_keeper):
    response = api.patch("/roles/role_keeper", role_keeper, json={"permissions": ["roles.manage", "users.manage"]})
    assert response.status_code == 403, response.get_json()
    assert role_permissions(app, "role_keeper") == ["roles.manage"]
    assert api.patch(f"/users/{role_keeper['id']}", role_keeper, json={"role": "admin"}).status_code == 403
    assert user_row(app, role_keeper["id"])["role"] == "role_keeper"


def test_a_user_manager_cannot_make_itself_or_anyone_admin(app, api, admin, people_manager, seller):
    mine = api.patch(f"/users/{people_manager['id']}", people_manager, json={"role": "admin"})
    assert mine.status_code == 403, mine.get_json()
    theirs = api.patch(f"/users/{seller['id']}", people_manager, json={"role": "admin"})
    assert theirs.status_code == 403 and "role" in theirs.get_json()["error"]["fields"]
    created = api.post(
        "/users",
        people_manager,
        json={"email": "boss@firma.example", "name": "Boss", "password": NEW_PASSWORD, "role": "admin"},
    )
    assert created.status_code == 403 and "role" in created.get_json()["error"]["fields"]
    assert user_row(app, people_manager["id"])["role"] == "people" and user_row(app, seller["id"])["role"] == "user"
    assert api.get("/users?role=admin", admin).get_json()["total"] == 1
    # an admin still gives it
    assert api.patch(f"/users/{seller['id']}", admin, json={"role": "admin"}).status_code == 200


def test_a_user_manager_cannot_set_an_admins_password(app, api, admin, people_manager):
    admin_headers = api.headers(admin)
    before = user_row(app, admin["id"])
    response = api.patch(f"/users/{admin['id']}", people_manager, json={"password": NEW_PASSWORD})
    assert response.status_code == 403, response.get_json()
    assert user_row(app, admin["id"]) == before
    assert api.http.get("/api/v1/companies", headers=admin_headers).status_code == 200, "the admin's token still works"
    assert (
        api.http.post("/api/v1/auth/token", json={"email": admin["email"], "password": NEW_PASSWORD}).status_code == 401
    )


@pytest.mark.parametrize(
    "change", [{"name": "Ada Przejęta"}, {"email": "mine@firma.example"}, {"role": "user"}, {"status": "departed"}]
)
def test_only_admins_change_an_admin(app, api, admin, people_manager, change):
    api.create_user("second.admin@firma.example", role="admin")  # the target is not the last admin
    before = user_row(app, admin["id"])
    response = api.patch(f"/users/{admin['id']}", people_manager, json=change)
    assert response.status_code == 403, response.get_json()
    assert user_row(app, admin["id"]) == before


# --- a caller grants and reaches only permissions it holds ---------------------------------------


def test_a_role_manager_grants_only_permissions_it_holds(app, api, admin, people_manager):
    make_role(api, admin, "sales_lead", "pipelines.manage")
    created = api.post("/roles", people_manager, json={"name": "spy", "label": "Spy", "permissions": ["audit.view"]})
    assert created.status_code == 403 and "audit.view" in created.get_json()["error"]["fields"]["permissions"]
    widened = api.patch(
        "/roles/sales_lead", people_manager, json={"permissions": ["pipelines.manage", "records.edit_others"]}
    )
    assert widened.status_code == 403
    assert role_permissions(app, "sales_lead") == ["pipelines.manage"]
    assert [role["name"] for role in api.get("/roles", admin).get_json()["items"] if role["name"] == "spy"] == []
    # what it holds it may grant; unknown permissions are still a 422
    assert (
        api.post(
            "/roles", people_manager, json={"name": "pipes", "label": "Pipes", "permissions": ["pipelines.manage"]}
        ).status_code
        == 201
    )
    unknown = api.post("/roles", people_manager, json={"name": "moon", "label": "Moon", "permissions": ["fly.to_moon"]})
    assert unknown.status_code == 422 and "permissions" in unknown.get_json()["error"]["fields"]


def test_a_role_holding_permissions_the_caller_lacks_is_out_of_its_reach(app, api, admin, people_manager, auditor):
    assert api.patch("/roles/auditors", people_manager, json={"label": "Renamed"}).status_code == 403
    assert api.patch("/roles/auditors", people_manager, json={"permissions": []}).status_code == 403
    assert role_permissions(app, "auditors") == ["audit.view"]
    assert api.patch("/roles/auditors", admin, json={"label": "Audytorzy"}).status_code == 200


def test_nobody_changes_the_permissions_of_their_own_role(app, api, people_manager):
    for permissions in (
        ["users.manage", "roles.manage"],
        ["users.manage", "roles.manage", "pipelines.manage", "records.delete", "audit.view"],
    ):
        response = api.patch("/roles/people", people_manager, json={"permissions": permissions})
        assert response.status_code == 403, (permissions, response.get_json())
    assert role_permissions(app, "people") == ["pipelines.manage", "records.delete", "roles.manage", "users.manage"]
    # its label is no privilege
    assert api.patch("/roles/people", people_manager, json={"label": "Kadry"}).status_code == 200


def test_giving_a_user_a_role_with_permissions_the_caller_lacks_is_refused(
    app, api, admin, people_manager, seller, auditor
):
    response = api.patch(f"/users/{seller['id']}", people_manager, json={"role": "auditors"})
    assert response.status_code == 403 and "audit.view" in response.get_json()["error"]["fields"]["role"]
    created = api.post(
        "/users",
        people_manager,
        json={"email": "new.person@firma.example", "name": "N", "password": NEW_PASSWORD, "role": "auditors"},
    )
    assert created.status_code == 403
    assert user_row(app, seller["id"])["role"] == "user"
    assert api.get("/users?q=new.person@firma", admin).get_json()["total"] == 0
    # roles within its own permissions are fine; unknown roles are a 422
    assert api.patch(f"/users/{seller['id']}", people_manager, json={"role": "manager"}).status_code == 403, (
        "manager holds records.edit_others, which the people manager lacks"
    )
    assert api.patch(f"/users/{seller['id']}", people_manager, json={"role": "user"}).status_code == 200
    unknown = api.patch(f"/users/{seller['id']}", people_manager, json={"role": "king"})
    assert unknown.status_code == 422 and "role" in unknown.get_json()["error"]["fields"]


def test_a_manager_cannot_escalate_through_a_custom_role_it_defines(app, api, admin, people_manager, seller):
    """Define a role with more than one holds, then give it to an accomplice: both refused."""
    assert (
        api.post(
            "/roles",
            people_manager,
            json={"name": "super", "label": "Super", "permissions": ["users.manage", "audit.view"]},
        ).status_code
        == 403
    )
    assert (
        api.post(
            "/roles", people_manager, json={"name": "helper", "label": "Helper", "permissions": ["users.manage"]}
        ).status_code
        == 201
    )
    assert (
        api.patch("/roles/helper", people_manager, json={"permissions": ["users.manage", "tasks.see_all"]}).status_code
        == 403
    )
    assert api.patch(f"/users/{seller['id']}", people_manager, json={"role": "helper"}).status_code == 200
    assert role_permissions(app, "helper") == ["users.manage"]


def test_a_user_whose_role_holds_permissions_the_caller_lacks_cannot_be_taken_over(app, api, people_manager, auditor):
    before = user_row(app, auditor["id"])
    for change in ({"password": NEW_PASSWORD}, {"email": "mine@firma.example"}, {"status": "departed"}):
        response = api.patch(f"/users/{auditor['id']}", people_manager, json=change)
        assert response.status_code == 403, (change, response.get_json())
    assert user_row(app, auditor["id"]) == before


# --- nobody changes their own role or status ---------------------------------------------------


def test_nobody_changes_their_own_role_or_status(app, api, admin, people_manager):
    other_admin = api.create_user("second.admin@firma.example", role="admin", name="Bogdan Admin")
    for user, change in (
        (people_manager, {"role": "user"}),
        (people_manager, {"status": "departed"}),
        (other_admin, {"role": "manager"}),
        (other_admin, {"status": "departed"}),
    ):
        before = user_row(app, user["id"])
        response = api.patch(f"/users/{user['id']}", user, json=change)
        assert response.status_code == 403, (user["email"], change, response.get_json())
        assert set(change) <= set(response.get_json()["error"]["fields"])
        assert user_row(app, user["id"]) == before
    # the same values as now are no change; another admin changes the role
    assert (
        api.patch(f"/users/{other_admin['id']}", other_admin, json={"role": "admin", "name": "Bogdan A."}).status_code
        == 200
    )
    assert api.patch(f"/users/{other_admin['id']}", admin, json={"role": "manager"}).status_code == 200


# --- the admin panel applies the same rules -------------------------------------------------------


def test_the_admin_user_form_refuses_what_the_api_refuses(app, api, admin, people_manager, seller, auditor):
    browser = logged_in(app, people_manager)
    before = user_row(app, admin["id"])
    reset = browser.submit(
        f"/admin/users/edit/?id={admin['id']}",
        {"name": admin["name"], "email": admin["email"], "role": "admin", "password": NEW_PASSWORD},
    )
    assert reset.status_code == 200
    assert "Tylko administratorzy mogą zmieniać administratora" in flashed(reset)
    assert user_row(app, admin["id"]) == before

    promoted = browser.submit(
        f"/admin/users/edit/?id={seller['id']}", {"name": seller["name"], "email": seller["email"], "role": "admin"}
    )
    assert "Tylko administratorzy mogą nadawać rolę administratora" in flashed(promoted)
    widened = browser.submit(
        f"/admin/users/edit/?id={seller['id']}", {"name": seller["name"], "email": seller["email"], "role": "auditors"}
    )
    assert "ma uprawnienia, których nie masz: audit.view" in flashed(widened)
    assert user_row(app, seller["id"])["role"] == "user"

    mine = browser.submit(
        f"/admin/users/edit/?id={people_manager['id']}",
        {"name": people_manager["name"], "email": people_manager["email"], "role": "user"},
    )
    assert "Nikt nie zmienia własnej roli ani stanu" in flashed(mine)
    assert user_row(app, people_manager["id"])["role"] == "people"

    created = browser.submit(
        "/admin/users/new/", {"name": "Boss", "email": "boss@firma.example", "role": "admin", "password": NEW_PASSWORD}
    )
    assert "Tylko administratorzy mogą nadawać rolę administratora" in flashed(created)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "boss@firma.example")) is None


def test_the_users_list_actions_leave_admins_to_admins(app, api, admin, people_manager, seller):
    other_admin = api.create_user("second.admin@firma.example", role="admin", name="Bogdan Admin")
    browser = logged_in(app, people_manager)
    page = browser.run_action("/admin/users/", "mark_departed", [other_admin["id"]])
    assert "Tylko administratorzy mogą zmieniać administratora" in flashed(page)
    assert user_row(app, other_admin["id"])["status"] == "active"

    mine = browser.run_action("/admin/users/", "mark_departed", [people_manager["id"]])
    assert "Nikt nie zmienia własnej roli ani stanu" in flashed(mine)
    assert user_row(app, people_manager["id"])["status"] == "active"

    assert api.patch(f"/users/{other_admin['id']}", admin, json={"status": "departed"}).status_code == 200
    back = browser.run_action("/admin/users/", "reactivate", [other_admin["id"]])
    assert "Tylko administratorzy mogą zmieniać administratora" in flashed(back)
    assert user_row(app, other_admin["id"])["status"] == "departed"

    # a plain user is still theirs to manage, whole or nothing
    browser.run_action("/admin/users/", "mark_departed", [seller["id"]])
    assert user_row(app, seller["id"])["status"] == "departed"


def test_the_admin_roles_view_grants_only_what_the_caller_holds(app, api, admin, people_manager, auditor):
    make_role(api, admin, "sales_lead", "pipelines.manage")
    browser = logged_in(app, people_manager)
    created = browser.submit("/admin/roles/new/", {"name": "spy", "label": "Spy", "permissions": ["audit.view"]})
    assert created.status_code == 200 and "nie masz audit.view" in flashed(created)
    with app.app_context():
        assert db.session.scalar(select(Role).where(Role.name == "spy")) is None

    with app.app_context():
        lead_id = db.session.scalar(select(Role.id).where(Role.name == "sales_lead"))
        own_id = db.session.scalar(select(Role.id).where(Role.name == "people"))
        auditors_id = db.session.scalar(select(Role.id).where(Role.name == "auditors"))
    widened = browser.submit(
        f"/admin/roles/edit/?id={lead_id}",
        {"name": "sales_lead", "label": "Sales lead", "permissions": ["pipelines.manage", "records.edit_others"]},
    )
    assert "nie masz records.edit_others" in flashed(widened)
    assert role_permissions(app, "sales_lead") == ["pipelines.manage"]

    own = browser.submit(
        f"/admin/roles/edit/?id={own_id}",
        {
            "name": "people",
            "label": "People",
            "permissions": ["users.manage", "roles.manage", "pipelines.manage", "records.delete", "audit.view"],
        },
    )
    assert "Nikt nie zmienia własnej roli" in flashed(own)
    assert role_permissions(app, "people") == ["pipelines.manage", "records.delete", "roles.manage", "users.manage"]

    renamed = browser.submit(
        f"/admin/roles/edit/?id={auditors_id}",
        {"name": "auditors2", "label": "Auditors", "permissions": ["audit.view"]},
    )
    assert "Nie możesz zmieniać roli z uprawnieniami, których nie masz: audit.view" in flashed(renamed)
    deleted = browser.submit(
        "/admin/roles/delete/", {"id": str(auditors_id)}, form_url="/admin/roles/", follow_redirects=True
    )
    assert "Nie możesz zmieniać roli z uprawnieniami, których nie masz: audit.view" in flashed(deleted)
    with app.app_context():
        assert db.session.scalar(select(Role.name).where(Role.id == auditors_id)) == "auditors"

    # within its own permissions the view works as before
    allowed = browser.submit(
        f"/admin/roles/edit/?id={lead_id}",
        {"name": "sales_lead", "label": "Kierownik", "permissions": ["pipelines.manage"]},
    )
    assert allowed.status_code == 302
