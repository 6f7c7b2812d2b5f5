"""``opiekun plugins new NAME``: a ready plugin package, from the templates in
``scaffold_template/``.

It writes an installable distribution ``opiekun-NAME`` holding the manifest and entry
point, a record type with its model, its first migration (matching the model), API
schemas, an admin view, a permission, a job, a CLI command, a Polish catalog (compiled),
a README and tests written with :mod:`opiekun.testing` that pass as generated. It imports
the core only from the public namespace (:mod:`opiekun.plugin`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from opiekun import __version__

TEMPLATES = Path(__file__).parent / "scaffold_template"

#: template → file of the new package (``{package}`` and ``{name}`` filled in)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "package/__init__.py.tmpl": "{package}/__init__.py",
    "package/models.py.tmpl": "{package}/models.py",
    "package/schemas.py.tmpl": "{package}/schemas.py",
    "package/admin.py.tmpl": "{package}/admin.py",
    "package/jobs.py.tmpl": "{package}/jobs.py",
    "package/cli.py.tmpl": "{package}/cli.py",
    "package/migrations/migration.py.tmpl": "{package}/migrations/{name}_0001_{name}_table.py",
    "package/translations/pl/LC_MESSAGES/messages.po.tmpl": "{package}/translations/pl/LC_MESSAGES/messages.po",
    "tests/test_plugin.py.tmpl": "tests/test_{name}.py",
}

NAME = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
LABEL = re.compile(r"^[^\x00-\x1f\"\\{}]{1,60}$")


class ScaffoldError(ValueError):
    """The plugin cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Skeleton:
    """What the new plugin is called: its name (``visits``), its record type (``visit``)
    and the record type's labels."""

    name: str
    record_type: str
    label: str
    label_plural: str

    @property
    def package(self) -> str:
        return f"opiekun_{self.name}"

    @property
    def distribution(self) -> str:
        return f"opiekun-{self.name.replace('_', '-')}"

    @property
    def model(self) -> str:
        return "".join(part.capitalize() for part in self.record_type.split("_"))


def skeleton(
    name: str, record_type: str | None = None, label: str | None = None, label_plural: str | None = None
) -> Skeleton:
    """The names of a new plugin, checked; defaults: record type = ``name`` without its
    final ``s``, labels from the names."""
    record_type = record_type or (name[:-1] if name.endswith("s") and len(name) > 2 else f"{name}_record")
    for what, value in (("plugin name", name), ("record type", record_type)):
        if not NAME.match(value):
            raise ScaffoldError(
                f"the {what} {value!r} must be 2 to 30 lower-case letters, digits or _, starting with a letter"
            )
    label = label or record_type.replace("_", " ").capitalize()
    label_plural = label_plural or name.replace("_", " ").capitalize()
    for what, value in (("label", label), ("plural label", label_plural)):
        if not LABEL.match(value):
            raise ScaffoldError(f"the {what} {value!r} must be 1 to 60 characters, without quotes or braces")
    return Skeleton(name, record_type, label, label_plural)


def write_plugin(plugin: Skeleton, folder: Path, core_revision: str) -> list[Path]:
    """Write the package into ``folder`` (which must not exist); returns the files."""
    if folder.exists():
        raise ScaffoldError(f"{folder} exists already: choose another --directory or remove it")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True, undefined=jinja2.StrictUndefined
    )
    values = {
        "name": plugin.name,
        "record_type": plugin.record_type,
        "label": plugin.label,
        "label_plural": plugin.label_plural,
        "package": plugin.package,
        "distribution": plugin.distribution,
        "model": plugin.model,
        "opiekun_version": __version__,
        "core_revision": core_revision,
        "today": dt.date.today().isoformat(),
    }
    written = []
    for template, target in FILES.items():
        path = folder / target.format(package=plugin.package, name=plugin.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(environment.get_template(template).render(values), encoding="utf-8")
        written.append(path)
    written.append(_compiled(folder / plugin.package / "translations" / "pl" / "LC_MESSAGES" / "messages.po"))
    return written


def _compiled(po_file: Path) -> Path:
    """The catalog's ``.mo`` beside it (what the running app reads)."""
    with po_file.open("rb") as source:
        catalog = read_po(source, locale="pl")
    mo_file = po_file.with_suffix(".mo")
    with mo_file.open("wb") as target:
        write_mo(target, catalog)
    return mo_file
