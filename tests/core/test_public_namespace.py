"""The public namespace (issue 19): plugins import the core only through
``opiekun.plugin``, ``opiekun.plugin.api`` and ``opiekun.plugin.admin``; everything else
under ``opiekun`` is internal. The four built-ins, the example partner plugin and the
tests' own partner plugin keep to it, so a partner can too."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import opiekun_contracts
import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ("opiekun.plugin", "opiekun.plugin.api", "opiekun.plugin.admin")
PLUGIN_FOLDERS = {
    "ownership": ROOT / "plugins" / "ownership",
    "tasks": ROOT / "plugins" / "tasks",
    "audit": ROOT / "plugins" / "audit",
    "offboarding": ROOT / "plugins" / "offboarding",
    "contracts": Path(opiekun_contracts.__file__).parent,
    "visits": ROOT / "tests" / "support" / "visits_plugin",
}


def core_imports(folder: Path, own_package: str) -> list[str]:
    """``file:line module`` of every import of the core that is not public (a plugin's
    own modules and its migrations — Alembic scripts — aside)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                internal = module == "opiekun" or module.startswith("opiekun.")
                if internal and module not in PUBLIC and not module.startswith(own_package):
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {module}")
    return found


@pytest.mark.parametrize("plugin", sorted(PLUGIN_FOLDERS))
def test_a_plugin_imports_the_core_only_through_the_public_namespace(plugin):
    own = f"opiekun.plugins.{plugin}" if (ROOT / "plugins" / plugin).is_dir() else "\0"
    assert core_imports(PLUGIN_FOLDERS[plugin], own) == []


@pytest.mark.parametrize("module_name", PUBLIC)
def test_every_public_name_is_there_and_listed(module_name):
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__), "listed once"
    for name in module.__all__:
        assert hasattr(module, name), name
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    }
    assert public == set(module.__all__), "what the module holds is what it lists"


def test_the_check_catches_an_internal_import(tmp_path):
    plugin = tmp_path / "sneaky"
    plugin.mkdir()
    (plugin / "__init__.py").write_text(
        "from opiekun.plugin import hookimpl\nfrom opiekun.record_rules import may_change\n"
    )
    assert core_imports(plugin, "\0") == ["sneaky/__init__.py:2 opiekun.record_rules"]


def test_a_partners_route_guarded_by_requires_permission(tmp_path, fresh_database):
    """``requires_permission`` (opiekun.plugin.api): 403 unless the caller holds the right."""
    from flask import Blueprint

    from opiekun.plugin.api import requires_permission
    from opiekun.testing import ApiClient, build_app, close_app, make_plugin

    guarded = Blueprint("api_guarded", __name__, url_prefix="/api/v1/guarded")

    @guarded.get("/")
    @requires_permission("contracts.approve")
    def approve_all():
        return {"approved": True}

    app = build_app(
        tmp_path, fresh_database.url(), extra_plugins=[make_plugin("guarded", opiekun_blueprints=lambda: [guarded])]
    )
    api = ApiClient(app)
    seller = api.create_user("seller@firma.example")
    manager = api.create_user("manager@firma.example", role="manager")
    refused = api.get("/guarded/", seller)
    assert refused.status_code == 403
    assert "contracts.approve" in refused.get_json()["error"]["message"]
    assert api.get("/guarded/", manager).get_json() == {"approved": True}
    close_app(app)
