"""The wheel carries every module: pyproject.toml lists the packages by hand (setuptools'
finder cannot install core/ as ``opiekun``), so a new folder of modules must be listed."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"core": "opiekun", "plugins": "opiekun.plugins"}


def packages_on_disk() -> set[str]:
    found = set()
    for folder, package in FOLDERS.items():
        for module in (ROOT / folder).rglob("*.py"):
            relative = module.parent.relative_to(ROOT / folder)
            if "migrations" in relative.parts or "__pycache__" in relative.parts:
                continue  # Alembic revisions are package data
            found.add(".".join([package, *relative.parts]))
    return found


def test_every_folder_of_modules_is_a_listed_package():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert packages_on_disk() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - packages_on_disk() == set(), "these listed packages no longer exist"


def test_built_in_plugins_carry_the_version_of_the_package():
    from importlib.metadata import version

    from opiekun.plugins import audit, offboarding, ownership, tasks

    package = version("opiekun")
    assert {plugin.MANIFEST.name: plugin.MANIFEST.version for plugin in (audit, offboarding, ownership, tasks)} == {
        "audit": package,
        "offboarding": package,
        "ownership": package,
        "tasks": package,
    }
