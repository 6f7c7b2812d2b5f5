"""The documentation site (issue 19) is built from the repository: MkDocs in strict mode
(a broken link or a reference that cannot be read fails), with every page a partner needs,
and every name the public namespace exports documented on its reference page."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = {
    "opiekun.plugin": "reference/plugin.html",
    "opiekun.plugin.api": "reference/plugin-api.html",
    "opiekun.plugin.admin": "reference/plugin-admin.html",
    "opiekun.testing": "reference/testing.html",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return folder


def text_of(page: Path) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())


def test_the_site_has_every_page_a_partner_and_an_operator_need(site):
    for page in ("index", "deployment", "tutorial", "plugins", "hooks", "api", *(p[:-5] for p in REFERENCE.values())):
        assert (site / f"{page}.html").is_file(), page
    tutorial = text_of(site / "tutorial.html")
    assert "opiekun plugins new visits" in tutorial and "opiekun_record_fields" in tutorial
    assert "OPIEKUN_DATABASE_URL" in text_of(site / "deployment.html")
    assert "opiekun_transfer_prepare" in text_of(site / "hooks.html")


@pytest.mark.parametrize("module_name", sorted(REFERENCE))
def test_every_public_name_is_on_its_reference_page(site, module_name):
    module = importlib.import_module(module_name)
    page = (site / REFERENCE[module_name]).read_text(encoding="utf-8")
    documented = set(re.findall(rf'id="{re.escape(module_name)}\.([A-Za-z_][A-Za-z0-9_]*)"', page))
    missing = sorted(set(module.__all__) - documented)
    assert missing == [], f"{module_name}: not on {REFERENCE[module_name]}: {missing}"


def test_the_docs_name_nothing_outside_the_repository():
    """No path of a machine, no folder beside the checkout."""
    for page in [*(ROOT / "docs").rglob("*.md"), ROOT / "README.md", ROOT / "mkdocs.yml"]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(?<![\w.])/(work|root|home|tmp)/", text), page
        assert "shared/" not in text and "../" not in text.replace("](../", ""), page
