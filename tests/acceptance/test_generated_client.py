"""From an integrator's seat (issue 21): widely used client generators take the API's
OpenAPI document whole. openapi-python-client It reports no warning, leaves
out no operation or answer, and the client it writes works against a live server.

Before: 30 operations came out with warnings or not at all. Every record list was among
them, and the generated ``list_company.sync()`` returned ``None``, because schema names
carried hash suffixes and nested references (``UserPage.d091cd2.UserOut``) could not be
resolved."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from opiekun.testing.apps import PASSWORD
from tests.support.live_server import served

PACKAGE = "opiekun_client"
ROOT = Path(__file__).resolve().parents[2]
#: npm's tools, installed by scripts/test.sh: ``npm install --prefix .node-tools openapi-typescript@7 typescript@5``
NODE_TOOLS = ROOT / ".node-tools" / "node_modules" / ".bin"
#: a TypeScript integration typed by the generated declarations: it compiles only when the
#: names it uses are there (before: CompanyPage.397f9cb, operations["list_company"])
TYPESCRIPT_USE = """
import type { components, operations } from "./schema";
type CompanyPage = components["schemas"]["CompanyPage"];
type ErrorBody = components["schemas"]["ErrorBody"];
type ListQuery = NonNullable<operations["list_companies"]["parameters"]["query"]>;
type UpdateBody = operations["update_company"]["requestBody"]["content"]["application/json"];
const page: CompanyPage = { items: [], total: 0, page: 1, per_page: 50 };
const query: ListQuery = { q: "agro", city: "Poznań", per_page: 100 };
const change: UpdateBody = { city: "Kalisz" };
const refusal: ErrorBody = { error: { code: "not_found", message: "no company", fields: {} } };
export { page, query, change, refusal };
"""


@pytest.fixture(scope="module")
def live_api(app) -> Iterator[str]:
    """The suite's app served over HTTP on a free local port, in a thread."""
    with served(app) as url:
        yield url


@pytest.fixture(scope="module")
def generated(live_api, tmp_path_factory):
    """The client openapi-python-client writes from the live document, imported, and what
    the generator printed."""
    folder = tmp_path_factory.mktemp("generated")
    with urllib.request.urlopen(f"{live_api}/api/v1/openapi.json") as answer:
        document = json.load(answer)
    (folder / "openapi.json").write_text(json.dumps(document))
    bin_folder = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_folder / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none"]
        + ["--output-path", PACKAGE],
        cwd=folder,
        env={**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE), document, result.stdout + result.stderr
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_generator_takes_the_whole_document_without_a_warning(generated):
    package, document, output = generated
    assert "warning" not in output.lower(), output
    written = {
        path.stem for path in Path(package.__file__).parent.joinpath("api").rglob("*.py") if path.stem != "__init__"
    }
    operations = {operation["operationId"] for methods in document["paths"].values() for operation in methods.values()}
    assert operations == written, f"left out: {sorted(operations - written)}"
    names = set(document["components"]["schemas"])
    assert {"CompanyPage", "CompanyOut", "UserOut", "ErrorBody"} <= names
    assert not [name for name in names if "." in name], "readable names, every $ref resolvable"


def test_an_integration_creates_lists_filters_and_updates_companies_with_it(generated, live_api, admin):
    package = generated[0]
    client_module = importlib.import_module(f"{PACKAGE}.client")
    models = importlib.import_module(f"{PACKAGE}.models")
    companies = importlib.import_module(f"{PACKAGE}.api.companies")
    token_api = importlib.import_module(f"{PACKAGE}.api.authentication.issue_token")
    for name in ("create_company", "list_companies", "get_company", "update_company"):
        importlib.import_module(f"{companies.__name__}.{name}")

    anonymous = client_module.Client(base_url=live_api)
    token = token_api.sync(client=anonymous, body=models.TokenRequest(email=admin["email"], password=PASSWORD))
    assert isinstance(token, models.TokenAnswer), token
    client = client_module.AuthenticatedClient(base_url=live_api, token=token.token)

    made = companies.create_company.sync(client=client, body=models.CompanyCreate(name="Agro-Tech", city="Poznań"))
    assert isinstance(made, models.CompanyOut) and made.owner_id == admin["id"], made
    companies.create_company.sync(client=client, body=models.CompanyCreate(name="Stal-Bud", city="Gniezno"))

    page = companies.list_companies.sync(client=client, q="agro")
    assert isinstance(page, models.CompanyPage), page
    assert (page.total, [item.name for item in page.items]) == (1, ["Agro-Tech"])
    by_city = companies.list_companies.sync(client=client, city="Gniezno")
    assert [item.name for item in by_city.items] == ["Stal-Bud"]

    changed = companies.update_company.sync(client=client, record_id=made.id, body=models.CompanyUpdate(city="Kalisz"))
    assert isinstance(changed, models.CompanyOut) and changed.city == "Kalisz"
    assert companies.get_company.sync(client=client, record_id=made.id).city == "Kalisz"

    missing = companies.get_company.sync_detailed(client=client, record_id=424242)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.ErrorBody)
    assert missing.parsed.error.code == "not_found"
    refused = companies.create_company.sync_detailed(client=client, body=models.CompanyCreate(name=""))
    assert refused.status_code == 422 and "name" in refused.parsed.error.fields.to_dict()
    assert package.__name__ == PACKAGE


def node_tool(name: str) -> str:
    tool = NODE_TOOLS / name
    if not tool.exists():
        reason = "npm install --prefix .node-tools openapi-typescript@7 typescript@5 (scripts/test.sh does)"
        if os.environ.get("OPIEKUN_REQUIRE_NODE_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return str(tool)


def test_a_typescript_integration_compiles_against_the_generated_types(live_api, tmp_path):
    """A second generator, npm's openapi-typescript: it writes the declarations without a
    warning, and code using them by their readable names compiles with ``tsc --strict``."""
    generator, compiler = node_tool("openapi-typescript"), node_tool("tsc")
    with urllib.request.urlopen(f"{live_api}/api/v1/openapi.json") as answer:
        (tmp_path / "openapi.json").write_bytes(answer.read())
    generated = subprocess.run(
        # a field with a default is optional in a body: the generator's v7 default reads it as always present
        [generator, "openapi.json", "-o", "schema.d.ts", "--default-non-nullable=false"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "warn" not in (generated.stdout + generated.stderr).lower(), generated.stdout + generated.stderr
    (tmp_path / "use.ts").write_text(TYPESCRIPT_USE)
    compiled = subprocess.run(
        [compiler, "--noEmit", "--strict", "use.ts"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
