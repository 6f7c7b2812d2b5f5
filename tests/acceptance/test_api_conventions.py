"""The API's conventions hold for every route (issue 21), checked by walking the OpenAPI
document rather than route by route, so that a new route cannot break them unseen:

- every list takes ``page``/``per_page`` and answers ``{items, total, page, per_page}``;
- no ``GET`` writes (before: ``GET /task-types`` created the default types);
- the right to use a route is checked before its input (before: a user without
  ``offboarding.transfer`` posting an unknown field got a 422 describing the body);
- ``ETag`` and ``If-Match`` keep two integrations from overwriting each other's change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from opiekun.extensions import db
from opiekun.testing.apps import app_tables

#: answers that hold ``items`` but are reports, not lists
REPORTS = {"PreviewOut"}


@pytest.fixture(scope="module")
def document(app):
    return app.test_client().get("/api/v1/openapi.json").get_json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path.removeprefix("/api/v1"), method, operation


def answer_schema(document, operation) -> tuple[str, dict]:
    for status in ("200", "201", "202"):
        reference = (
            operation["responses"].get(status, {}).get("content", {}).get("application/json", {}).get("schema", {})
        )
        if "$ref" in reference:
            name = reference["$ref"].rsplit("/", 1)[-1]
            return name, document["components"]["schemas"][name]
    return "", {}


def lists(document):
    for path, method, operation in operations(document):
        name, schema = answer_schema(document, operation)
        one_thing = path.endswith("}")  # /task-templates/{id} answers a template, whose items are its own
        if method == "get" and "items" in schema.get("properties", {}) and name not in REPORTS and not one_thing:
            yield path, operation, name, schema


def test_every_list_pages_the_same_way(document, api, admin):
    found = list(lists(document))
    assert len(found) >= 20, [path for path, *_ in found]
    for path, operation, name, schema in found:
        assert {"items", "total", "page", "per_page"} <= set(schema["properties"]), name
        assert {"page", "per_page"} <= {parameter["name"] for parameter in operation.get("parameters", [])}, path
        required = [p["name"] for p in operation.get("parameters", []) if p.get("required") and p["in"] == "query"]
        if "{" not in path and not required:
            answer = api.get(path, admin, query_string={"page": 1, "per_page": 500})
            assert answer.status_code == 200, (path, answer.get_json())
            assert (answer.get_json()["page"], answer.get_json()["per_page"]) == (1, 500), path


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table)) for table in app_tables()}


def test_no_get_writes(app, document, api, admin):
    """Every GET without a path parameter, called by an admin on a new deployment's
    database, leaves every table as it was."""
    with app.app_context():
        before = row_counts()
    called = []
    for path, method, _operation in operations(document):
        if method == "get" and "{" not in path:
            assert api.get(path, admin).status_code < 500, path
            called.append(path)
    with app.app_context():
        after = row_counts()
    assert len(called) >= 20
    assert {name: (before[name], after[name]) for name in before if before[name] != after[name]} == {}


def guarded(document):
    for path, method, operation in operations(document):
        text = f"{operation.get('summary', '')} {operation.get('description', '')}"
        needed = re.search(r"Needs the permission `([^`]+)`", text)
        if needed:
            yield path, method, operation, needed.group(1)


def test_a_caller_without_the_right_learns_nothing_about_the_input(document, api, seller):
    """A salesperson without the route's permission sending nonsense gets 403, not a 422
    describing what the route takes."""
    found = list(guarded(document))
    assert {"offboarding.transfer", "users.manage", "roles.manage", "tasks.configure"} <= {p for *_, p in found}
    for path, method, _operation, permission in found:
        url = re.sub(r"\{[^}]+\}", "1", path)
        query = {"per_page": "lots"} if method == "get" else None
        body = {"no_such_field": 1} if method in ("post", "patch", "put") else None
        answer = api.request(method.upper(), url, seller, json=body, query_string=query)
        assert answer.status_code == 403, (method, path, answer.status_code, answer.get_json())
        assert permission in answer.get_json()["error"]["message"], answer.get_json()


def test_the_example_of_the_issue(api, admin, seller):
    answer = api.post("/offboarding/transfers", seller, json={"from_user_id": admin["id"], "colour": "red"})
    assert answer.status_code == 403, answer.get_json()
    assert "colour" not in str(answer.get_json()) and "to_user_id" not in str(answer.get_json()), "nothing of the body"


# --- ETag and If-Match ------------------------------------------------------------------------


@pytest.mark.parametrize("path, body, change", [("/companies", {"name": "Agro-Tech"}, {"city": "Poznań"})])
def test_if_match_keeps_two_integrations_from_overwriting_each_other(api, admin, seller, path, body, change):
    created = api.post(path, seller, json=body)
    assert created.status_code == 201 and created.headers["ETag"]
    record_id = created.get_json()["id"]
    first = api.get(f"{path}/{record_id}", seller)
    tag = first.headers["ETag"]
    assert tag == created.headers["ETag"], "the same record, the same tag"
    assert api.get(f"{path}/{record_id}", admin).headers["ETag"] == tag, "whoever reads it"

    # another integration changes it meanwhile
    other = api.patch(f"{path}/{record_id}", admin, json=change, headers={"If-Match": tag})
    assert other.status_code == 200 and other.headers["ETag"] != tag
    # the first one, holding the old tag, is refused and changes nothing
    late = api.patch(f"{path}/{record_id}", seller, json={"name": "Nadpisana"}, headers={"If-Match": tag})
    assert late.status_code == 412, late.get_json()
    assert (
        late.get_json()["error"]["code"] == "precondition_failed" and "If-Match" in late.get_json()["error"]["fields"]
    )
    assert api.get(f"{path}/{record_id}", seller).get_json()["name"] == body["name"]
    assert api.delete(f"{path}/{record_id}", admin, headers={"If-Match": tag}).status_code == 412
    assert api.get(f"{path}/{record_id}", seller).status_code == 200, "not deleted"

    fresh = api.get(f"{path}/{record_id}", seller).headers["ETag"]
    assert (
        api.patch(f"{path}/{record_id}", seller, json={"name": "Po odczycie"}, headers={"If-Match": fresh}).status_code
        == 200
    )
    assert api.patch(f"{path}/{record_id}", seller, json={"name": "Bez If-Match"}).status_code == 200, "as before"
    assert (
        api.patch(f"{path}/{record_id}", seller, json={"name": "Gwiazdka"}, headers={"If-Match": "*"}).status_code
        == 200
    )
    assert api.delete(f"{path}/{record_id}", admin, headers={"If-Match": '"nie-ten"'}).status_code == 412
    assert (
        api.delete(
            f"{path}/{record_id}", admin, headers={"If-Match": api.get(f"{path}/{record_id}", admin).headers["ETag"]}
        ).status_code
        == 204
    )


def test_a_bulk_owner_change_changes_the_tag(api, admin, seller, other_seller):
    """A change the integration did not make itself (here a bulk owner change) also makes
    its tag stale."""
    company = api.post("/companies", seller, json={"name": "Stal-Bud"}).get_json()
    tag = api.get(f"/companies/{company['id']}", seller).headers["ETag"]
    moved = api.post(
        "/ownership/assignments",
        admin,
        json={
            "object_type": "company",
            "object_ids": [company["id"]],
            "user_id": other_seller["id"],
            "on_overlap": "replace",
        },
    )
    assert moved.status_code in (200, 201), moved.get_json()
    assert (
        api.patch(f"/companies/{company['id']}", admin, json={"city": "Gniezno"}, headers={"If-Match": tag}).status_code
        == 412
    )
