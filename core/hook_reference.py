"""The hook reference (``docs/hooks.md``), written from :mod:`opiekun.hookspecs`: per hook
its signature, what its docstring says (when it is called, in which order, what to
return) and, as an example, an implementation from the example plugin or a built-in.

``python -m opiekun.hook_reference docs/hooks.md`` (``nox -s docs``) writes it; a test
fails while the committed page is stale, and when a hook has no docstring or no
implementation to show.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

from opiekun import PROJECT_NAME, hookspecs

#: Where the examples come from, the partner's example first.
EXAMPLE_MODULES = (
    "opiekun_contracts",
    "opiekun.core_records",
    "opiekun.core_permissions",
    "opiekun.plugins.ownership",
    "opiekun.plugins.tasks",
    "opiekun.plugins.audit",
    "opiekun.plugins.offboarding",
)


def implementations(hook_name: str) -> list[tuple[str, object]]:
    """``(module, function)`` of each example module implementing the hook."""
    found = []
    for module in _example_modules():
        function = getattr(module, hook_name, None)
        if function is not None and hasattr(function, f"{PROJECT_NAME}_impl"):
            found.append((module.__name__, function))
    return found


def _example_modules() -> list[ModuleType]:
    modules = []
    for name in EXAMPLE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:  # the example plugin is not installed
            continue
    return modules


def hook_section(hook_name: str) -> str:
    """One hook's part of the page."""
    spec = getattr(hookspecs, hook_name)
    signature = f"def {hook_name}{inspect.signature(spec)}"
    lines = [f"## `{hook_name}`", "", "```python", signature, "```", "", inspect.getdoc(spec) or "", ""]
    found = implementations(hook_name)
    if found:
        module, function = found[0]
        others = ", ".join(f"`{name}`" for name, _ in found[1:])
        lines += [f"Example, from `{module}`:", "", "```python", inspect.getsource(function).rstrip(), "```", ""]
        if others:
            lines += [f"Also implemented by {others}.", ""]
    return "\n".join(lines)


def reference() -> str:
    """The whole page."""
    names = sorted(hookspecs.__all__)
    head = [
        "# Hook reference",
        "",
        "Every hook a plugin may implement (`opiekun.hookspecs`), written from the code by",
        "`nox -s docs`: mark a function of your plugin's module with `@hookimpl` (from",
        "`opiekun.plugin`) and name it exactly as below; it may take fewer arguments than the",
        "signature offers. Read the module's docstring for what holds for every hook:",
        "",
        "> " + "\n> ".join(line for line in (inspect.getdoc(hookspecs) or "").splitlines()),
        "",
        "Hooks: " + ", ".join(f"[`{name}`](#{name})" for name in names),
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(hook_section(name) for name in names)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m opiekun.hook_reference OUTPUT.md", file=sys.stderr)
        return 2
    Path(sys.argv[1]).write_text(reference(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
