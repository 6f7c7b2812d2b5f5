"""Custom roles grant the permissions the core and plugins declare."""


def test_a_custom_role_grants_exactly_its_permissions(api, admin, seller):
    permissions = {item["name"] for item in api.get("/permissions", seller).get_json()["items"]}
    assert {"users.manage", "pipelines.manage", "records.edit_others"} <= permissions

    created = api.post(
        "/roles",
        admin,
        json={"name": "sales_lead", "label": "Kierownik sprzedaży", "permissions": ["pipelines.manage"]},
    )
    assert created.status_code == 201 and created.get_json()["permissions"] == ["pipelines.manage"]
    assert api.post("/pipelines", seller, json={"name": "Nowy", "stages": [{"name": "A"}]}).status_code == 403

    assert api.patch(f"/users/{seller['id']}", admin, json={"role": "sales_lead"}).status_code == 200
    assert api.post("/pipelines", seller, json={"name": "Nowy", "stages": [{"name": "A"}]}).status_code == 201
    assert (
        api.post("/users", seller, json={"email": "x@y.pl", "name": "X", "password": "tajne-haslo-1"}).status_code
        == 403
    )

    roles = {role["name"]: role for role in api.get("/roles", seller).get_json()["items"]}
    assert roles["admin"]["builtin"] and "users.manage" in roles["admin"]["permissions"]
    assert roles["sales_lead"]["label"] == "Kierownik sprzedaży"


def test_role_input_is_checked(api, admin, seller):
    assert api.post("/roles", seller, json={"name": "x", "label": "X"}).status_code == 403
    assert api.post("/roles", admin, json={"name": "admin", "label": "X"}).status_code == 422
    assert api.post("/roles", admin, json={"name": "Bad Name", "label": "X"}).status_code == 422
    response = api.post("/roles", admin, json={"name": "x", "label": "X", "permissions": ["fly.to_moon"]})
    assert response.status_code == 422 and "permissions" in response.get_json()["error"]["fields"]
    assert api.patch("/roles/admin", admin, json={"label": "Boss"}).status_code == 404
    assert [role["name"] for role in api.get("/roles", admin).get_json()["items"]] == ["admin", "manager", "user"]
