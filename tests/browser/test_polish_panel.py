"""No English left in the Polish panel: an admin clicks through every page of the menu —
each list, its "new" form and a record's page — and no text of the English side of the
catalogs (ours and Flask-Admin's) shows on any of them.

The catalog test (``tests/core/test_translations.py``) proves every marked text has a
Polish version; this one finds what it cannot: texts shown without being marked, formats
built in code, Flask-Admin's own strings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import flask_admin
from babel.messages.pofile import read_po

from tests.browser.conftest import log_in

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = [
    *sorted(ROOT.glob("core/translations/pl/LC_MESSAGES/*.po")),
    *sorted(ROOT.glob("plugins/*/translations/pl/LC_MESSAGES/*.po")),
    Path(flask_admin.__file__).parent / "translations" / "pl" / "LC_MESSAGES" / "admin.po",
]
#: English texts that are also Polish, or names (they may show in a Polish page).
SAME_IN_BOTH = {"Opiekun", "OK", "E-mail", "ID", "CSV", "Excel", "API", "Lead", "Leady"}


def english_texts() -> set[str]:
    """The English side of the catalogs: texts of two words or more whose Polish version
    differs (placeholders cut off: the fixed part of each text must not show)."""
    texts = set()
    for path in CATALOGS:
        with path.open("rb") as file:
            catalog = read_po(file)
        for message in catalog:
            for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
                if not msgid:
                    continue
                for part in re.split(r"%\(\w+\)\w|%\w|\{\w*\}", msgid):
                    part = part.strip(" .,:;!?()'\"-")
                    if len(part.split()) >= 2 and part not in SAME_IN_BOTH:
                        texts.add(part)
    return texts


#: English words that are no Polish words: a text the catalogs do not hold (a plugin's
#: description, a label built in code) shows through them.
ENGLISH_WORDS = {
    "the",
    "and",
    "with",
    "of",
    "for",
    "from",
    "your",
    "this",
    "that",
    "has",
    "have",
    "are",
    "was",
    "not",
    "yes",
    "none",
    "all",
    "new",
    "edit",
    "delete",
    "save",
    "search",
    "items",
    "owner",
    "owners",
    "user",
    "users",
    "record",
    "records",
    "task",
    "tasks",
    "company",
    "companies",
    "deal",
    "deals",
    "person",
    "persons",
    "history",
    "true",
    "false",
    "date",
    "between",
    "equals",
    "greater",
    "smaller",
    "contains",
    "empty",
}


def menu_pages(page) -> list[str]:
    """Every page the menu leads to (dropdowns included), as paths."""
    links = page.eval_on_selector_all("nav a[href^='/admin']", "links => links.map(link => link.getAttribute('href'))")
    return sorted({urlparse(link).path for link in links if "logout" not in link})


def filter_menu_texts(page) -> str:
    """The list's filters as its "Add filter" menu shows them once opened: each filter's
    name and its operations ("pomiędzy", "równa się")."""
    data = page.locator("#filter-groups-data")
    if not data.count():
        return ""
    groups = json.loads(data.text_content())
    operations = [item["operation"] for items in groups.values() for item in items]
    return " ".join([*groups, *operations])


def leftovers(page, english: set[str]) -> list[str]:
    """The English texts found on the current page."""
    shown = page.evaluate(
        """() => {
            // names of things (plugins, hooks) are written as code: they are not texts to translate
            const body = document.body.cloneNode(true);
            // ... nor the JSON and the HTML Flask-Admin keeps for its scripts in hidden elements
            const hidden = "code, .technical-name, script, style, [id$='-data'], .inline-field-template";
            body.querySelectorAll(hidden).forEach((element) => element.remove());
            return body.innerText;
        }"""
    )
    shown += " ".join(
        page.eval_on_selector_all("[title], [placeholder]", "els => els.map(e => e.title || e.placeholder)")
    )
    shown += " " + filter_menu_texts(page)
    phrases = {text for text in english if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", shown)}
    # the browser's own date inputs show its language's format (12/06/2026), not the panel's
    if page.locator("input[type=date], input[type=datetime-local]").count():
        phrases.add("<input type=date>")
    # addresses, paths and permission names (records.delete) are names, not words
    shown_without_addresses = re.sub(r"\S+@\S+|\S+://\S+|/\S+|\b\w+\.\w+\b", " ", shown)
    words = {word for word in re.findall(r"\w+", shown_without_addresses) if word.lower() in ENGLISH_WORDS}
    return sorted(phrases | words)


def test_every_page_of_the_panel_speaks_polish(page, api, admin, seller, other_seller, pipeline):
    company = api.post("/companies", seller, json={"name": "Agro-Tech", "city": "Poznań"}).get_json()
    api.post("/persons", seller, json={"first_name": "Jan", "last_name": "Kowal", "company_id": company["id"]})
    api.post(
        "/deals", seller, json={"name": "Dostawa maszyn", "company_id": company["id"], "pipeline_id": pipeline["id"]}
    )
    api.patch(f"/users/{other_seller['id']}", admin, json={"status": "departed"})
    english = english_texts()
    assert "Records without an owner" in english and "Save and Add Another" in english, "the check can fail"

    log_in(page, admin)
    found: dict[str, list[str]] = {}
    visited = []
    for path in menu_pages(page):
        page.goto(path)
        visited.append(path)
        found[path] = leftovers(page, english)
        create_link = page.locator("a[href*='/new/']").first
        if create_link.count():
            form_path = create_link.get_attribute("href")
            page.goto(form_path)
            found[form_path] = leftovers(page, english)
            page.goto(path)
        details = page.locator("a[title='Zobacz rekord']").first
        if details.count():
            details_path = details.get_attribute("href")
            page.goto(details_path)
            found[details_path] = leftovers(page, english)
    assert len(visited) > 15, visited
    leftover = {path: texts for path, texts in found.items() if texts}
    assert not leftover, "\n".join(f"{path}: {texts}" for path, texts in leftover.items())
