"""Every refusal written as ``opiekun.errors.Message`` has its Polish text.

The API answers refusals in English; the admin shows them in the user's language. A
Message without a translation would show up in English in the Polish admin, so each
package's catalog must hold every Message its code raises.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [ROOT / "core", *sorted(path.parent for path in (ROOT / "plugins").glob("*/translations"))]


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
