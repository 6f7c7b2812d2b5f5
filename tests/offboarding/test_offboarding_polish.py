"""Offboarding in good Polish (issue 17): every count in the three Polish plural forms
("1 element", "2 elementy", "5 elementów"; "1 rekord", "22 rekordy", "25 rekordów") — in
the lists, the summary, undo, "Transfer to…", refusals and the colleagues' notices —
statuses by their labels in refusals, refusals flashed as sentences, and notices written in
the language of the user who receives them."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from opiekun.errors import PluralMessage
from opiekun.extensions import db
from opiekun.models import Notification, User
from opiekun.plugins.offboarding.admin.common import items_in_all, items_kept, items_put_back, undone_text
from opiekun.plugins.offboarding.admin.transfer_to import named_records, records_transferred
from opiekun.plugins.offboarding.notifications import received_text
from opiekun.plugins.offboarding.selection import OwnerRecords
from opiekun.testing.clients import flashed, logged_in
from tests.offboarding.test_offboarding_admin import (
    ANY_FORM,
    OFFBOARDING,
    companies,
    start,
    started_transfer,
    summarize,
    user_page,
    wait_until_finished,
)
from tests.offboarding.transfer_helpers import depart

#: The counts every plural text is checked with: one, a few, many, and the teens' traps.
COUNTS = (1, 2, 5, 22, 25)


def in_polish(app, text) -> tuple[str, ...]:
    with app.test_request_context(), force_locale("pl"):
        return tuple(str(text(count)) for count in COUNTS)


def active_owners(count: int) -> PluralMessage:
    return PluralMessage(
        "%(num)d owner is active; filter by “owner is departed”",
        "%(num)d owners are active; filter by “owner is departed”",
        count,
    )


@pytest.mark.parametrize(
    "text, forms",
    [
        (
            items_in_all,
            ("razem 1 element", "razem 2 elementy", "razem 5 elementów", "razem 22 elementy", "razem 25 elementów"),
        ),
        (
            items_put_back,
            (
                "1 element wrócił na miejsce",
                "2 elementy wróciły na miejsce",
                "5 elementów wróciło na miejsce",
                "22 elementy wróciły na miejsce",
                "25 elementów wróciło na miejsce",
            ),
        ),
        (
            items_kept,
            (
                "1 element pozostał bez zmian",
                "2 elementy pozostały bez zmian",
                "5 elementów pozostało bez zmian",
                "22 elementy pozostały bez zmian",
                "25 elementów pozostało bez zmian",
            ),
        ),
        (
            lambda count: records_transferred(count, "Marta Manager", count),
            (
                "1 rekord przekazano do: Marta Manager (od 1 byłego opiekuna).",
                "2 rekordy przekazano do: Marta Manager (od 2 byłych opiekunów).",
                "5 rekordów przekazano do: Marta Manager (od 5 byłych opiekunów).",
                "22 rekordy przekazano do: Marta Manager (od 22 byłych opiekunów).",
                "25 rekordów przekazano do: Marta Manager (od 25 byłych opiekunów).",
            ),
        ),
        (
            lambda count: active_owners(count).translated(),
            tuple(
                f"{count} {words}; przefiltruj listę po „Opiekun odszedł”"
                for count, words in (
                    (1, "opiekun jest aktywny"),
                    (2, "opiekunów jest aktywnych"),
                    (5, "opiekunów jest aktywnych"),
                    (22, "opiekunów jest aktywnych"),
                    (25, "opiekunów jest aktywnych"),
                )
            ),
        ),
        (
            lambda count: received_text(count, "Stefan Sprzedawca", {"company": count}),
            (
                "Otrzymujesz 1 element użytkownika Stefan Sprzedawca (Firmy: 1).",
                "Otrzymujesz 2 elementy użytkownika Stefan Sprzedawca (Firmy: 2).",
                "Otrzymujesz 5 elementów użytkownika Stefan Sprzedawca (Firmy: 5).",
                "Otrzymujesz 22 elementy użytkownika Stefan Sprzedawca (Firmy: 22).",
                "Otrzymujesz 25 elementów użytkownika Stefan Sprzedawca (Firmy: 25).",
            ),
        ),
    ],
    ids=["in all", "put back", "kept", "transferred", "active owners", "received"],
)
def test_counts_take_the_polish_plural_forms(app, text, forms):
    assert in_polish(app, text) == forms


def test_the_first_records_and_how_many_more(app, admin, api):
    with app.app_context():
        owner = db.session.get(User, admin["id"])
        names = ["Firma 0", "Firma 1"]
        assert in_polish(app, lambda count: named_records(OwnerRecords(owner, count + 2, names))) == (
            "Firma 0, Firma 1 i 1 inny",
            "Firma 0, Firma 1 i 2 inne",
            "Firma 0, Firma 1 i 5 innych",
            "Firma 0, Firma 1 i 22 inne",
            "Firma 0, Firma 1 i 25 innych",
        )


def test_undos_message_says_what_went_back_and_what_stayed(app):
    with app.test_request_context(), force_locale("pl"):
        assert undone_text(22, 0) == "Cofnięto: 22 elementy wróciły na miejsce."
        assert undone_text(1, 5) == (
            "Cofnięto: 1 element wrócił na miejsce, 5 elementów pozostało bez zmian (lista poniżej)."
        )
    with app.test_request_context(), force_locale("en"):
        assert undone_text(1, 2) == "Undone: 1 item put back, 2 items kept as they were (listed below)."


def test_a_refusal_with_a_count_is_english_in_the_api_and_plural_in_the_panel(app):
    assert str(active_owners(1)) == "1 owner is active; filter by “owner is departed”"
    assert str(active_owners(2)) == "2 owners are active; filter by “owner is departed”"
    with app.test_request_context(), force_locale("en"):
        assert active_owners(22).translated() == "22 owners are active; filter by “owner is departed”"


# --- the pages ------------------------------------------------------------------------------


def test_the_pages_count_items_in_polish(app, api, admin, seller, other_seller):
    companies(api, seller, 5)
    depart(api, admin, seller)
    browser = logged_in(app, admin)
    listing = re.sub(r"</?strong>", "", browser.text(OFFBOARDING))
    assert "Firmy: 5 (razem 5 elementów)" in listing
    page = browser.text(user_page(seller))
    assert re.search(r"nie pracuje już\s*</span>\s*od \d{1,2}\.\d\d\.\d{4}", page), "departed since a day, not 'dnia'"
    summary = flashed(summarize(browser, seller, to_user=str(other_seller["id"])))
    assert "Zostanie przekazanych 5 elementów użytkownika Stefan Sprzedawca" in summary
    assert "razem 5 elementów" in summary

    transfer_page = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    wait_until_finished(browser, transfer_page)
    undone = browser.submit(f"{transfer_page}undo/", {}, form_url=transfer_page, follow_redirects=True)
    assert "Cofnięto: 5 elementów wróciło na miejsce." in flashed(undone)
    header = browser.text(transfer_page)
    assert re.search(
        r"Cofnięto \d{1,2}\.\d\d\.\d{4}, \d\d:\d\d \(Ada Admin\): 5 elementów wróciło na miejsce, 0 elementów pozostało bez zmian\.",
        header,
    )


def test_refusals_are_sentences_naming_statuses_in_polish(app, api, admin, seller, other_seller):
    companies(api, seller, 1)
    depart(api, admin, seller)
    browser = logged_in(app, admin)
    transfer_page = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    state = wait_until_finished(browser, transfer_page)
    refused = browser.submit(f"{transfer_page}resume/", {}, form_url=ANY_FORM, follow_redirects=True)
    assert (
        f"Przekazanie nr {state['id']} ma stan „gotowe”: Status: przekazania w stanie „gotowe” nie można wznowić"
        in flashed(refused)
    )
    english = api.post(f"/offboarding/transfers/{state['id']}/resume", admin).get_json()["error"]["message"]
    assert english == f"transfer {state['id']} is done", "the API keeps the status code"


def test_notices_are_written_in_the_language_of_who_receives_them(app, api, admin, seller, other_seller):
    with app.app_context():
        db.session.get(User, other_seller["id"]).locale = "en"
        db.session.get(User, admin["id"]).locale = "en"
        db.session.commit()
    companies(api, seller, 2)
    depart(api, admin, seller)
    browser = logged_in(app, admin)
    browser.switch_language("pl")  # the admin works in Polish now; each notice keeps its reader's language
    transfer_page = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    wait_until_finished(browser, transfer_page)
    with app.app_context():
        notices = dict(db.session.execute(select(Notification.kind, Notification.message)).all())
        readers = dict(db.session.execute(select(Notification.kind, Notification.user_id)).all())
    assert readers == {"offboarding.departed": admin["id"], "offboarding.received": other_seller["id"]}
    assert notices["offboarding.received"] == "You received 2 items of Stefan Sprzedawca (Companies: 2)."
    assert notices["offboarding.departed"] == "Stefan Sprzedawca has departed: review and reassign their items."
