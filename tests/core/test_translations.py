"""Every text of the panel has its Polish version: refusals written as
``opiekun.errors.Message`` and every ``gettext``/``ngettext``/``lazy_gettext`` of the
Python code and the page templates, in the core and in each plugin.

The API answers refusals in English; the admin shows them in the user's language. A text
without a translation would show up in English in the Polish panel, so each package's
catalog (or the core's, which every page also reads) must hold every text it marks.
The browser suite crawls the panel for leftovers these checks cannot see
(``tests/browser/test_polish_panel.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    ROOT / "core",
    *sorted(path.parent for path in (ROOT / "plugins").glob("*/translations")),
    *sorted(path.parent for path in (ROOT / "examples").glob("*/*/translations")),
]


#: The marks the code and templates translate texts with (``_l`` is ``lazy_gettext``).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "_l": None,
    "ngettext": (1, 2),
    "Message": None,
    "PluralMessage": (1, 2),
}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]


def catalog_of(package: Path):
    with (package / "translations" / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file)


def marked_texts(package: Path) -> set[str]:
    """The singular msgids of every translated text of the package (code and templates)."""
    found = extract_from_dir(str(package), method_map=METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def translated(catalog, msgid: str) -> bool:
    entry = catalog.get(msgid)
    return entry is not None and bool(entry.string if isinstance(entry.string, str) else all(entry.string))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: path.name)
def test_every_text_of_the_panel_has_its_polish_version(package):
    own, core = catalog_of(package), catalog_of(ROOT / "core")
    untranslated = sorted(
        msgid for msgid in marked_texts(package) if msgid and not (translated(own, msgid) or translated(core, msgid))
    )
    assert not untranslated, f"{package.name}: no Polish text for {untranslated}"


def test_the_check_finds_texts_of_templates_and_code():
    """Guard against a check that cannot fail: texts of both kinds of files are found."""
    found = marked_texts(ROOT / "core")
    assert "My work" in found  # the start page's template
    assert "Records per owner" in found  # opiekun.admin.home
    assert "%(num)d task created from the template %(name)s." in marked_texts(ROOT / "plugins" / "tasks")


def messages_in(package: Path) -> set[str]:
    """The msgids of the ``Message(...)`` calls in the package's Python code."""
    found = extract_from_dir(str(package), method_map=[("**.py", "python")], keywords={"Message": None})
    return {message for _, _, message, _, _ in found}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: path.name)
def test_every_refusal_message_has_its_polish_text(package):
    with (package / "translations" / "pl" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    untranslated = sorted(
        msgid for msgid in messages_in(package) if catalog.get(msgid) is None or not catalog.get(msgid).string
    )
    assert not untranslated, f"{package.name}: no Polish text for {untranslated}"


def test_the_check_finds_the_messages_of_a_plugin():
    """Guard against a check that cannot fail: ownership's refusals are found."""
    found = messages_in(ROOT / "plugins" / "ownership")
    assert "the user has departed" in found and len(found) > 30


def test_no_text_is_translated_two_ways_by_two_catalogs():
    """The catalogs of the core and of every plugin are merged into one for the panel (the
    last read wins): a text two of them translate differently would change its meaning on
    pages of the other ("Due date": "Termin płatności" of an invoice, "Termin" of a task).
    Texts that mean different things need different msgids."""
    translations: dict[str, dict[str, str]] = {}
    for package in PACKAGES:
        for message in catalog_of(package):
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            if msgid and message.string:
                shown = message.string if isinstance(message.string, str) else "|".join(message.string)
                translations.setdefault(msgid, {})[package.name] = shown
    clashes = {msgid: by_package for msgid, by_package in translations.items() if len(set(by_package.values())) > 1}
    assert not clashes, "\n".join(f"{msgid!r}: {by_package}" for msgid, by_package in sorted(clashes.items()))
