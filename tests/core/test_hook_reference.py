"""The hook reference (issue 19): docs/hooks.md is written from the hook specs and stays
current, and every hook has what a partner needs — a docstring saying when it is called
and what to return, and an implementation in the example plugin or a built-in to copy
(shown on the page)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from opiekun import hookspecs
from opiekun.hook_reference import implementations, reference

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "hooks.md"


def test_the_committed_page_is_current():
    assert PAGE.read_text(encoding="utf-8") == reference(), "run `nox -s docs` and commit docs/hooks.md"


@pytest.mark.parametrize("hook_name", sorted(hookspecs.__all__))
def test_every_hook_is_documented_and_shown_with_an_implementation(hook_name):
    spec = getattr(hookspecs, hook_name)
    docstring = inspect.getdoc(spec) or ""
    assert len(docstring.split()) >= 12, f"{hook_name}: say when it is called and what to return"
    assert implementations(hook_name), f"{hook_name}: implement it in the example plugin or a built-in"
    assert f"## `{hook_name}`" in PAGE.read_text(encoding="utf-8")


def test_every_hook_spec_is_listed():
    specs = {name for name, value in vars(hookspecs).items() if name.startswith("opiekun_") and callable(value)}
    assert specs == set(hookspecs.__all__)


def test_every_hook_is_named_by_a_test():
    """Every hook is named in a test module (``tests/`` or an example plugin's ``tests/``),
    so none is covered only by chance; naming the hooks in this file does not count."""
    this_file = Path(__file__).resolve()
    test_files = [
        path
        for pattern in ("tests/**/test_*.py", "examples/*/tests/**/test_*.py")
        for path in ROOT.glob(pattern)
        if path.resolve() != this_file
    ]
    assert len(test_files) > 10, test_files
    text = "\n".join(path.read_text(encoding="utf-8") for path in test_files)
    unnamed = sorted(name for name in hookspecs.__all__ if name not in text)
    assert unnamed == [], (
        f"no test names these hooks: {', '.join(unnamed)}; test each in tests/core/test_hook_contract.py"
    )
