"""The developer's loop: ``nox -s test`` (fast, SQLite), ``nox -s lint types``, ``nox -s docs``
and ``nox -s test_all`` (what CI runs). Sessions run in the project's own ``.venv`` (made by
``bash scripts/test.sh`` or ``python3 -m venv .venv && .venv/bin/pip install -e ".[dev]"``),
so they start at once: ``.venv/bin/nox -s test``. Extra arguments go to the tool:
``nox -s test -- -k owner``.
"""

import sys
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "types", "test"]

#: the interpreter nox runs in (the project's .venv), and a command installed beside it
PYTHON = sys.executable


def tool(name: str) -> str:
    return str(Path(PYTHON).parent / name)


@nox.session
def test(session: nox.Session) -> None:
    """The inner loop: every test on SQLite with in-process jobs, in parallel, fuzzing left out."""
    session.run(
        PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto", "-m", "not fuzz", *session.posargs
    )


@nox.session(name="test_all")
def test_all(session: nox.Session) -> None:
    """Both databases (SQLite; PostgreSQL + Redis + rq workers), fuzzing included: CI's run."""
    session.run("bash", "scripts/test.sh", *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules, import order, and the formatting (line length 120)."""
    session.run(tool("ruff"), "check", ".", *session.posargs)
    session.run(tool("ruff"), "format", "--check", ".")


@nox.session
def fix(session: nox.Session) -> None:
    """Apply ruff's safe fixes and formatting in place."""
    session.run(tool("ruff"), "check", "--fix", ".")
    session.run(tool("ruff"), "format", ".")


@nox.session
def types(session: nox.Session) -> None:
    """mypy on the partner contract and the domain modules (listed in pyproject.toml)."""
    lay_out_package_for_mypy(Path(".mypy-src"))
    session.run(tool("mypy"), *session.posargs)


def lay_out_package_for_mypy(folder: Path) -> None:
    """``folder/opiekun``: links to everything in core/, and ``plugins`` linked to plugins/
    (the layout the installed package has)."""
    package = folder / "opiekun"
    package.mkdir(parents=True, exist_ok=True)
    wanted = {entry.name: entry for entry in Path("core").iterdir() if entry.name != "__pycache__"}
    wanted["plugins"] = Path("plugins")
    for name, target in wanted.items():
        link = package / name
        if not link.is_symlink():
            link.symlink_to(Path("..", "..", target))


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate docs/openapi.json from the routes and docs/hooks.md from the hook specs
    (a test fails while either is stale), then build the documentation site into site/
    (MkDocs, strict: a broken link or reference fails)."""
    session.run(tool("python"), "-m", "opiekun.hook_reference", "docs/hooks.md")
    session.run(
        tool("opiekun"),
        "openapi",
        "--output",
        "docs/openapi.json",
        env={"OPIEKUN_PLUGINS": "ownership,tasks,audit,offboarding,webhooks", "OPIEKUN_INSTANCE_PATH": ".nox-instance"},
    )
    # `python -m`: run as .venv/bin/mkdocs, the script's folder would come first on the
    # module path, and the reference would find the script `opiekun` instead of the package
    session.run(tool("python"), "-m", "mkdocs", "build", "--strict", "--quiet", env={"NO_MKDOCS_2_WARNING": "1"})
