"""Admins manage the team; people get tokens; those who leave lose access but keep history."""

from opiekun.testing.apps import PASSWORD


def test_wrong_credentials_and_missing_tokens_get_401(api, seller):
    assert (
        api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": "wrong-password"}).status_code
        == 401
    )
    assert (
        api.http.post("/api/v1/auth/token", json={"email": "nobody@x.example", "password": "whatever-1"}).status_code
        == 401
    )
    response = api.http.get("/api/v1/companies")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert api.http.get("/api/v1/companies", headers={"Authorization": "Bearer forged.token"}).status_code == 401


def test_an_admin_creates_a_user_who_can_then_log_in(api, admin):
    created = api.post(
        "/users",
        admin,
        json={"email": "Nowy@Firma.example", "name": "Nowy Handlowiec", "password": "tajne-haslo-1", "role": "user"},
    )
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "nowy@firma.example" and user["status"] == "active" and "password" not in user
    token = api.http.post("/api/v1/auth/token", json={"email": "NOWY@firma.example", "password": "tajne-haslo-1"})
    assert token.status_code == 200


def test_only_user_managers_create_or_change_users(api, seller, other_seller):
    assert (
        api.post(
            "/users", seller, json={"email": "x@firma.example", "name": "X", "password": "tajne-haslo-1"}
        ).status_code
        == 403
    )
    assert api.patch(f"/users/{other_seller['id']}", seller, json={"name": "Zmieniona"}).status_code == 403
    assert api.patch(f"/users/{seller['id']}", seller, json={"role": "admin"}).status_code == 403
    assert api.get(f"/users/{other_seller['id']}", seller).get_json()["name"] == other_seller["name"]
    mine = api.patch(f"/users/{seller['id']}", seller, json={"name": "Stefan S."})
    assert mine.status_code == 200 and mine.get_json()["name"] == "Stefan S."


def test_a_departed_user_can_no_longer_log_in_or_use_a_token_and_keeps_their_records(api, admin, seller):
    company = api.post("/companies", seller, json={"name": "Klient Stefana"}).get_json()
    old_headers = api.headers(seller)
    departed = api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"})
    assert departed.status_code == 200
    assert departed.get_json()["status"] == "departed" and departed.get_json()["departed_at"]
    assert departed.get_json()["display_name"] == f"departed: {seller['name']} ({seller['email']})"
    assert api.http.get("/api/v1/companies", headers=old_headers).status_code == 401
    assert (
        api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": "correct-horse-9"}).status_code
        == 401
    )
    assert api.get(f"/companies/{company['id']}", admin).get_json()["owner_id"] == seller["id"], (
        "items stay until transferred"
    )
    assert api.get("/users?status=departed", admin).get_json()["total"] == 1


def test_the_last_admin_cannot_leave_or_lose_the_role(api, admin):
    response = api.patch(f"/users/{admin['id']}", admin, json={"status": "departed"})
    assert response.status_code == 409
    assert api.patch(f"/users/{admin['id']}", admin, json={"role": "user"}).status_code == 409
    assert api.get(f"/users/{admin['id']}", admin).get_json()["status"] == "active"


def test_user_input_is_checked(api, admin, seller):
    cases = [
        ({"email": seller["email"], "name": "Dup", "password": "tajne-haslo-1"}, 409, "email"),
        ({"email": "not-an-email", "name": "X", "password": "tajne-haslo-1"}, 422, "email"),
        ({"email": "a@firma.example", "name": "X", "password": "short"}, 422, "password"),
        ({"email": "a@firma.example", "name": "X", "password": "tajne-haslo-1", "role": "king"}, 422, "role"),
        ({"email": "a@firma.example", "name": "X" * 201, "password": "tajne-haslo-1"}, 422, "name"),
        ({"email": "a@firma.example", "name": "X", "password": "tajne-haslo-1", "status": "departed"}, 422, "status"),
    ]
    for body, status, field in cases:
        response = api.post("/users", admin, json=body)
        assert response.status_code == status, (body, response.get_json())
        assert field in response.get_json()["error"]["fields"], (body, response.get_json())
    assert api.get("/users", admin).get_json()["total"] == 2
    assert api.patch(f"/users/{seller['id']}", admin, json={"status": "fired"}).status_code == 422
    assert api.patch("/users/999999", admin, json={"name": "X"}).status_code == 404


def test_a_password_change_revokes_old_tokens(api, seller):
    old_headers = api.headers(seller)
    changed = api.patch(
        f"/users/{seller['id']}", seller, json={"password": "nowe-haslo-123", "current_password": PASSWORD}
    )
    assert changed.status_code == 200
    assert api.http.get("/api/v1/companies", headers=old_headers).status_code == 401
    assert (
        api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": "nowe-haslo-123"}).status_code
        == 200
    )


def test_plugins_and_notifications_are_listed(api, seller):
    plugins = api.get("/plugins", seller).get_json()
    assert {"items", "total", "skipped"} <= plugins.keys()
    for plugin in plugins["items"]:
        assert {"name", "version", "depends"} <= plugin.keys()
    notifications = api.get("/notifications", seller).get_json()
    assert notifications == {"items": [], "total": 0, "page": 1, "per_page": 50, "total_is_estimate": False}
