"""docs/openapi.json is the document integrators generate clients from without running
Opiekun: it must be what a deployment with every built-in plugin serves."""

import json
from pathlib import Path

from opiekun.api.spec import openapi_text
from opiekun.app import create_app
from tests.conftest import make_settings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
BUILT_IN = ("ownership", "tasks", "audit", "offboarding")


def test_the_kept_openapi_document_is_up_to_date(tmp_path):
    app = create_app(make_settings(tmp_path, plugins=BUILT_IN))
    with app.app_context():
        served = openapi_text(app)
    assert DOCUMENT.read_text(encoding="utf-8") == served, "run `nox -s docs` and commit docs/openapi.json"


def test_the_kept_document_lists_every_plugins_routes():
    paths = json.loads(DOCUMENT.read_text(encoding="utf-8"))["paths"]
    for path in ("/api/v1/companies", "/api/v1/ownership/assignments", "/api/v1/tasks", "/api/v1/audit",
                 "/api/v1/offboarding/transfers"):
        assert path in paths
