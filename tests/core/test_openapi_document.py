"""docs/openapi.json is the document integrators generate clients from without running
Opiekun: it must be what a deployment with every built-in plugin serves."""

import json
from pathlib import Path

from opiekun.api.spec import openapi_text
from opiekun.app import create_app
from opiekun.testing.apps import make_settings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
BUILT_IN = ("ownership", "tasks", "audit", "offboarding", "webhooks")


def test_the_kept_openapi_document_is_up_to_date(tmp_path):
    app = create_app(make_settings(tmp_path, plugins=BUILT_IN))
    with app.app_context():
        served = openapi_text(app)
    assert DOCUMENT.read_text(encoding="utf-8") == served, "run `nox -s docs` and commit docs/openapi.json"


def test_the_kept_document_lists_every_plugins_routes():
    paths = json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"]
    for path in (
        "/api/v1/companies",
        "/api/v1/ownership/assignments",
        "/api/v1/tasks",
        "/api/v1/audit",
        "/api/v1/offboarding/transfers",
        "/api/v1/webhooks",
    ):
        assert path in paths


def references(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        return found.union(*(references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(references(value) for value in node))
    return set()


def test_every_app_of_a_process_serves_a_whole_document_of_its_own_plugins(tmp_path):
    """An app with every installed plugin first, then one with the ownership plugin only:
    the second lists no schema of plugins it does not have, and each reference resolves
    (building the first used to remove nested definitions the second then pointed to)."""
    documents = []
    for name, plugins in (("all", None), ("ownership", ("ownership",))):
        app = create_app(make_settings(tmp_path / name, plugins=plugins))
        documents.append(app.test_client().get("/api/v1/openapi.json").get_json())
    everything, ownership_only = documents
    for document in documents:
        listed = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
        assert references(document) - {"#/components/securitySchemes/bearer"} <= listed
    assert not any(path.startswith("/api/v1/tasks") for path in ownership_only["paths"])
    assert not any("Task" in name for name in ownership_only["components"]["schemas"])
    assert any("Task" in name for name in everything["components"]["schemas"])
