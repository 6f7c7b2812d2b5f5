"""A partner starts a plugin with ``opiekun plugins new`` (issue 19): the package it writes
installs with pip, its own tests pass with the shipped test kit (on this run's database),
the product runs with it on (schema, command, plugins list), it imports the core only
from the public namespace, and uninstalling it leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.core.test_plugin_lifecycle import opiekun, revisions
from tests.core.test_public_namespace import core_imports


def pip_install(package: Path, target: Path) -> None:
    """``pip install`` into a folder of its own (put on ``PYTHONPATH``), so the plugin's
    entry point exists for the commands run here and for no other test."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(package),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_a_new_plugin_is_installed_tested_run_and_uninstalled(tmp_path, fresh_database):
    url = fresh_database.url()
    folder = tmp_path / "opiekun-visits"
    made = opiekun(
        url,
        tmp_path,
        "plugins",
        "new",
        "visits",
        "--label",
        "Wizyta",
        "--label-plural",
        "Wizyty",
        "--directory",
        str(folder),
    )
    assert made.returncode == 0, made.stderr
    assert f"plugin visits written to {folder} (12 files)" in made.stdout
    assert core_imports(folder / "opiekun_visits", "\0") == [], "the public namespace only"
    assert partner_lint(folder) == "", "the generated code is clean as a partner's linter sees it"

    site = tmp_path / "site"
    pip_install(folder, site)
    with_plugin = {"PYTHONPATH": str(site)}

    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        env={**environment, **with_plugin},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert own_tests.returncode == 0, own_tests.stdout[-3000:] + own_tests.stderr[-2000:]
    assert "7 passed" in own_tests.stdout

    init = opiekun(url, tmp_path, "init", **with_plugin)
    assert init.returncode == 0, init.stderr
    assert "visits" in init.stdout.splitlines()[0] and "visits_0001" in revisions(url)
    listed = opiekun(url, tmp_path, "plugins", **with_plugin)
    assert "visits 0.1.0 — enabled" in listed.stdout and "opiekun_record_types" in listed.stdout
    report = opiekun(url, tmp_path, "visits-report", **with_plugin)
    assert report.returncode == 0 and "wizyty: 0" in report.stdout

    gone = opiekun(
        url, tmp_path, "plugins", "uninstall", "visits", "--yes", OPIEKUN_PLUGINS_DISABLED="visits", **with_plugin
    )
    assert gone.returncode == 0, gone.stderr
    assert "table visits: 0 row(s)" in gone.stdout
    assert not any(revision.startswith("visits_") for revision in revisions(url))


def test_a_new_plugin_needs_a_free_well_formed_name_and_folder(tmp_path, fresh_database):
    url = fresh_database.url()
    bad = opiekun(url, tmp_path, "plugins", "new", "Wizyty!")
    assert bad.returncode == 1 and "must be 2 to 30 lower-case letters, digits or _" in bad.stderr
    taken = opiekun(url, tmp_path, "plugins", "new", "tasks")
    assert taken.returncode == 1 and "a plugin called 'tasks' is installed already" in taken.stderr
    existing = tmp_path / "here"
    existing.mkdir()
    occupied = opiekun(url, tmp_path, "plugins", "new", "visits", "--directory", str(existing))
    assert occupied.returncode == 1 and "exists already" in occupied.stderr
    assert list(existing.iterdir()) == [], "nothing written"
    assert "Traceback" not in bad.stderr + taken.stderr + occupied.stderr


def partner_lint(folder: Path) -> str:
    """What ruff finds in a partner's package, run in its folder as the partner runs it
    (so the package is first-party): lint rules and formatting; empty when clean."""
    ruff = str(Path(sys.executable).with_name("ruff"))
    found = []
    for check in (["check", "--select", "F,E,W,I,B,UP,SIM,C4"], ["format", "--check"]):
        linted = subprocess.run(
            [ruff, *check, "--isolated", "--line-length", "120", "."], capture_output=True, text=True, cwd=folder
        )
        if linted.returncode != 0:
            found.append(linted.stdout + linted.stderr)
    return "\n".join(found)
