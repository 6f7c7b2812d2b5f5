"""Stefan, a salesperson, leaves the company: the administrator hands over everything he
had, as the help page "Zwolnij użytkownika" tells it — but in one place, for every kind of
item. She marks him departed and sees what he holds, gives it all to one colleague and
follows the transfer to its end, or splits it among the team; she undoes a transfer, and
what a colleague changed since stays with that colleague. From a record list she gives a
departed owner's companies to someone with "Przekaż…". Every form says what will happen
before anything moves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.offboarding.transfer_helpers import created, depart, owners, task_type_id, transfer


@pytest.fixture
def portfolio(api, seller, pipeline) -> dict[str, list[int]]:
    """What Stefan holds: six companies, three deals (one won) and an open task."""
    companies = [created(api.post("/companies", seller, json={"name": f"Firma {n}"}))["id"] for n in range(6)]
    deals = [
        created(api.post("/deals", seller, json={"name": name, "pipeline_id": pipeline["id"]}))["id"]
        for name in ("Pompy", "Serwis", "Hala")
    ]
    created(api.post(f"/deals/{deals[1]}/win", seller, json={}))
    task = created(
        api.post("/tasks", seller, json={"title": "Zadzwonić do klienta", "type_id": task_type_id(api, seller)})
    )
    return {"companies": companies, "deals": deals, "tasks": [task["id"]]}


def accept_dialogs(page) -> list[str]:
    """Say "OK" to the browser's confirmations, as the admin does; what they asked is kept."""
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    return asked


def from_menu(page, menu: str, entry: str) -> None:
    """Open ``entry`` of the top menu's ``menu`` (once the page's scripts have loaded)."""
    page.wait_for_load_state("load")
    page.locator(".navbar").get_by_text(menu, exact=True).click()
    with page.expect_navigation():  # to the page loaded with its scripts
        page.locator(".navbar .dropdown-menu.show").get_by_role("link", name=entry, exact=True).click()


def open_offboarding_of(page, user: dict) -> None:
    """Odejścia → Użytkownicy, którzy odeszli → "Przejrzyj i przekaż wszystko" of ``user``."""
    from_menu(page, "Odejścia", "Użytkownicy, którzy odeszli")
    page.locator("tr", has_text=user["email"]).get_by_role("link", name="Przejrzyj i przekaż wszystko").click()
    expect(page.get_by_role("heading", name=f"Odejście: {user['name']}")).to_be_visible()


def summary_rows(page) -> list[tuple[str, str, str, str]]:
    """The summary's rows: (recipient, record type, part, items), the recipient repeated."""
    rows = []
    for group in page.locator("#summary-table tbody.summary-recipient").all():
        name = group.locator(".summary-name").inner_text()
        for row in group.locator("tr").all():
            cells = row.locator("td").all_inner_texts()
            rows.append((name, *cells))
    return rows


def recipients_table(page) -> list[tuple[str, str, str]]:
    """The transfer page's "Kto co dostaje": (recipient, record type, part)."""
    return [tuple(row.locator("td").all_inner_texts()[:3]) for row in page.locator("#recipients tbody tr").all()]


def test_an_admin_marks_a_salesperson_departed_and_sees_what_they_hold(page, api, admin, seller, portfolio):
    log_in(page, admin)
    asked = accept_dialogs(page)
    from_menu(page, "Administracja", "Użytkownicy")
    page.locator("tr", has_text=seller["email"]).get_by_role("checkbox").check()
    page.get_by_role("button", name="Z wybranych").click()
    page.get_by_text("Oznacz odejście").click()
    expect(page.locator(".alert-success")).to_contain_text("Oznaczono odejście użytkowników: 1.")
    assert asked and "odejście" in asked[0].lower(), asked
    assert created(api.get(f"/users/{seller['id']}", admin))["status"] == "departed"

    page.get_by_role("link", name="Powiadomienia").click()
    expect(page.locator("table.model-list")).to_contain_text(
        "Stefan Sprzedawca nie pracuje już w firmie: przejrzyj i przekaż elementy tej osoby."
    )

    from_menu(page, "Odejścia", "Użytkownicy, którzy odeszli")
    row = page.locator("tr", has_text=seller["email"])
    expect(row).to_contain_text("Firmy: 6, Szanse sprzedaży: 3, Zadania: 1 (razem 10 elementów)")
    row.get_by_role("link", name="Przejrzyj i przekaż wszystko").click()

    preview = page.locator("#preview-table")
    expect(preview.locator("tr", has_text="Firmy")).to_contain_text("opiekun")
    expect(preview.locator("tr", has_text="Szanse sprzedaży")).to_have_text(re.compile(r"opiekun\s+2\s+1\s+3"))
    expect(preview.locator("tr", has_text="Zadania")).to_contain_text("odpowiedzialny")
    expect(page.locator("#preview-total")).to_have_text("10")
    page.get_by_role("link", name="Tylko otwarte").click()
    expect(page.locator("#preview-total")).to_have_text("9")
    page.get_by_role("link", name="Z zamkniętymi").click()
    expect(page.locator("#preview-total")).to_have_text("10")
    assert created(api.get(f"/offboarding/{seller['id']}/preview", admin))["total"] == 10
    assert set(owners(api, admin, "/companies", portfolio["companies"])) == {seller["id"]}, "nothing moved"


def test_an_admin_transfers_everything_to_one_colleague_and_follows_progress(
    page, api, admin, seller, other_seller, portfolio
):
    depart(api, admin, seller)
    log_in(page, admin)
    open_offboarding_of(page, seller)

    page.get_by_label("Odbiorca").select_option(label=other_seller["name"])
    page.get_by_role("button", name="Pokaż, co zostanie przekazane").click()
    summary = page.locator("#transfer-summary")
    expect(summary).to_contain_text("Zostanie przekazanych 10 elementów użytkownika Stefan Sprzedawca")
    assert summary_rows(page) == [
        ("Olga Inna", "Firmy", "wszystkie", "6"),
        ("Olga Inna", "Szanse sprzedaży", "wszystkie", "3"),
        ("Olga Inna", "Zadania", "wszystkie", "1"),
    ]
    expect(summary).to_contain_text("razem 10 elementów")
    expect(summary).to_contain_text("Opcje: Również zamknięte elementy, Zastępcy zostają.")
    assert set(owners(api, admin, "/companies", portfolio["companies"])) == {seller["id"]}, "nothing moved yet"

    page.get_by_role("button", name="Potwierdź i rozpocznij przekazanie").click()
    expect(page.locator(".alert-success")).to_contain_text("Przekazanie rozpoczęte.")
    expect(page.get_by_role("heading", name=re.compile(r"Przekazanie nr \d+: Stefan Sprzedawca"))).to_be_visible()
    expect(page.locator("#transfer-progress .progress-bar")).to_be_visible()
    expect(page.locator("#transfer-status")).to_have_text("gotowe")  # the page follows the job until it ends
    expect(page.locator("#transfer-moved")).to_have_text("10 / 10")
    expect(page.locator("#transfer-progress .progress-bar")).to_have_text("100 %")
    expect(page.locator("#counts")).to_contain_text("Firmy")
    items = page.locator("#items-table")
    expect(items.locator("tr", has_text="Firma 0")).to_contain_text("Olga Inna")
    expect(items.locator("tr", has_text="Zadzwonić do klienta")).to_contain_text("Odpowiedzialny")  # as counted
    expect(items.locator("tr", has_text="Zadzwonić do klienta")).to_contain_text("Olga Inna")

    for path, ids in (
        ("/companies", portfolio["companies"]),
        ("/deals", portfolio["deals"]),
        ("/tasks", portfolio["tasks"]),
    ):
        assert set(owners(api, admin, path, ids)) == {other_seller["id"]}, path
    [notice] = created(api.get("/notifications", other_seller))["items"]
    assert notice["message"] == (
        "Otrzymujesz 10 elementów użytkownika Stefan Sprzedawca (Firmy: 6, Szanse sprzedaży: 3, Zadania: 1)."
    ), "the colleague is told what they got, in Polish"
    page.get_by_role("link", name="Strona odejścia użytkownika").click()
    expect(page.locator("#nothing-left")).to_have_text("Nic nie zostało: wszystkie elementy przekazano.")
    page.go_back()


def test_an_admin_splits_the_portfolio_among_the_team(page, api, admin, seller, other_seller, manager, portfolio):
    third = api.create_user("tomasz@firma.example", name="Tomasz Handlowiec")
    depart(api, admin, seller)
    log_in(page, admin)
    open_offboarding_of(page, seller)

    page.get_by_label("podziel: typy rekordów różnym użytkownikom i/lub po równo w zespole").check()
    page.get_by_label("Zadania: dla kogo").select_option(label=manager["name"])
    for number, colleague in enumerate((other_seller, manager, third), 1):
        page.get_by_label(f"Członek zespołu {number}", exact=True).select_option(label=colleague["name"])
    page.get_by_role("button", name="Pokaż, co zostanie przekazane").click()

    expect(page.locator("#transfer-summary")).to_contain_text("Zostanie przekazanych 10 elementów")
    assert summary_rows(page) == [
        ("Marta Manager", "Zadania", "wszystkie", "1"),
        ("Marta Manager", "Firmy", "1/3", "2"),
        ("Marta Manager", "Szanse sprzedaży", "1/3", "1"),
        ("Olga Inna", "Firmy", "1/3", "2"),
        ("Olga Inna", "Szanse sprzedaży", "1/3", "1"),
        ("Tomasz Handlowiec", "Firmy", "1/3", "2"),
        ("Tomasz Handlowiec", "Szanse sprzedaży", "1/3", "1"),
    ]
    page.get_by_role("button", name="Potwierdź i rozpocznij przekazanie").click()
    expect(page.locator("#transfer-status")).to_have_text("gotowe")

    shares = recipients_table(page)
    assert ("Tomasz Handlowiec", "Firmy", "1/3") in shares, shares  # the last sharer's third, not "wszystkie"
    assert [part for _, kind, part in shares if kind == "Firmy"] == ["1/3", "1/3", "1/3"], shares
    assert ("Marta Manager", "Zadania", "wszystkie") in shares, shares
    companies = owners(api, admin, "/companies", portfolio["companies"])
    assert sorted(companies.count(user["id"]) for user in (other_seller, manager, third)) == [2, 2, 2], companies
    deals = owners(api, admin, "/deals", portfolio["deals"])
    assert sorted(deals) == sorted([other_seller["id"], manager["id"], third["id"]]), deals
    assert owners(api, admin, "/tasks", portfolio["tasks"]) == [manager["id"]]


def test_the_split_form_says_who_gets_what_before_anything_moves(
    page, api, admin, seller, other_seller, manager, portfolio
):
    depart(api, admin, seller)
    log_in(page, admin)
    open_offboarding_of(page, seller)

    page.get_by_label("podziel: typy rekordów różnym użytkownikom i/lub po równo w zespole").check()
    page.get_by_label("Członek zespołu 1", exact=True).select_option(label=other_seller["name"])
    page.get_by_label("Waga członka zespołu 1").fill("2")
    page.get_by_label("Członek zespołu 2", exact=True).select_option(label=manager["name"])
    page.get_by_role("button", name="Pokaż, co zostanie przekazane").click()
    assert summary_rows(page) == [
        ("Olga Inna", "Firmy", "2/3", "4"),
        ("Olga Inna", "Szanse sprzedaży", "2/3", "2"),
        ("Olga Inna", "Zadania", "2/3", "1"),
        ("Marta Manager", "Firmy", "1/3", "2"),
        ("Marta Manager", "Szanse sprzedaży", "1/3", "1"),
        ("Marta Manager", "Zadania", "1/3", "0"),
    ]
    expect(page.locator("#transfer-summary")).to_contain_text("razem 7 elementów")

    page.get_by_label("Waga członka zespołu 1").fill("1")  # changed after the summary, then confirmed
    page.get_by_role("button", name="Potwierdź i rozpocznij przekazanie").click()
    expect(page.locator(".alert-warning")).to_have_text(
        re.compile("Formularz albo elementy użytkownika Stefan Sprzedawca zmieniły się od podsumowania")
    )
    assert summary_rows(page)[:3] == [
        ("Olga Inna", "Firmy", "1/2", "3"),
        ("Olga Inna", "Szanse sprzedaży", "1/2", "2"),
        ("Olga Inna", "Zadania", "1/2", "1"),
    ]
    assert created(api.get("/offboarding/transfers", admin))["total"] == 0, "nothing started"
    assert set(owners(api, admin, "/companies", portfolio["companies"])) == {seller["id"]}, "nothing moved"


def test_an_admin_undoes_a_transfer_keeping_what_changed_since(page, api, admin, seller, other_seller, portfolio):
    depart(api, admin, seller)
    done = transfer(
        api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"], "object_types": ["company"]}
    )
    assert done["status"] == "done"
    edited = portfolio["companies"][0]
    created(api.patch(f"/companies/{edited}", other_seller, json={"phone": "+48 600 100 200"}))

    log_in(page, admin)
    asked = accept_dialogs(page)
    from_menu(page, "Odejścia", "Przekazania")
    with page.expect_navigation():  # the transfer's page, loaded with its scripts (the confirmation)
        page.get_by_role("link", name=f"#{done['id']}", exact=True).click()
    expect(page.locator("#transfer-status")).to_have_text("gotowe")
    page.get_by_role("button", name="Cofnij").click()

    expect(page.locator(".alert-success")).to_contain_text("5 elementów wróciło")
    assert asked == [
        "Przywrócić wszystkie przeniesione elementy do: Stefan Sprzedawca? Elementy zmienione od czasu przekazania "
        "zostaną tam, gdzie są, i pojawią się na liście."
    ], asked
    expect(page.locator(".alert-success")).to_contain_text("1 element pozostał bez zmian")
    expect(page.locator("#transfer-status")).to_have_text("cofnięte")
    expect(page.get_by_role("button", name="Cofnij")).to_have_count(0)
    kept = page.locator("#items-table tbody tr")
    expect(kept).to_have_count(1)
    expect(kept).to_contain_text("Firma 0")
    expect(kept.locator(".kept-reason")).to_have_text("zmieniony od tego czasu")

    companies = owners(api, admin, "/companies", portfolio["companies"])
    assert companies == [other_seller["id"]] + [seller["id"]] * 5, companies


def test_transfer_to_on_a_list_says_up_front_that_a_colleagues_record_is_selected(
    page, api, admin, seller, other_seller, manager, portfolio
):
    theirs = created(api.post("/companies", other_seller, json={"name": "Cudza"}))["id"]
    depart(api, admin, seller)
    log_in(page, admin)
    from_menu(page, "Rekordy", "Firmy")

    page.locator("tr", has_text="Cudza").get_by_role("checkbox").check()
    page.locator("tr", has_text="Firma 1").get_by_role("checkbox").check()
    page.get_by_role("button", name="Z wybranych").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Przekaż…").click()
    expect(page.locator("#bulk-scope")).to_have_text("Wybrane 2 rekordy:")
    expect(page.locator("#summary-active")).to_have_text(
        "1 rekord należy do aktywnego użytkownika (Olga Inna): przekazać można tylko rekordy opiekunów, którzy "
        "odeszli. Przefiltruj listę po „Opiekun odszedł”; tak jak jest, nic się nie zmieni."
    )
    page.get_by_label("Przekaż do").select_option(label=manager["name"])
    page.get_by_role("button", name="Przekaż", exact=True).click()
    expect(page.locator(".alert-danger").first).to_have_text(
        re.compile(
            "Zaznaczenie zawiera rekordy aktywnych użytkowników: Zaznaczone rekordy: 1 opiekun jest aktywny; "
            "przefiltruj listę po „Opiekun odszedł”"
        )
    )

    assert owners(api, admin, "/companies", [theirs, portfolio["companies"][1]]) == [other_seller["id"], seller["id"]]
    assert created(api.get("/offboarding/transfers", admin))["total"] == 0


def test_an_admin_gives_every_company_of_a_departed_owner_to_a_colleague_from_the_filtered_list(
    page, api, admin, seller, other_seller, manager, portfolio
):
    theirs = created(api.post("/companies", other_seller, json={"name": "Cudza"}))["id"]
    depart(api, admin, seller)
    log_in(page, admin)
    from_menu(page, "Rekordy", "Firmy")

    page.get_by_text("Dodaj filtr").click()
    page.get_by_role("link", name="Opiekun odszedł").click()
    with page.expect_navigation():  # the filtered list, loaded with its scripts
        page.get_by_role("button", name="Zastosuj").click()
    expect(page.locator("table.model-list tbody tr")).to_have_count(6)
    page.get_by_text("Wszystkie 6 pasujących").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Przekaż…").click()
    expect(page.locator("#bulk-scope")).to_have_text(
        "Wszystkie 6 rekordów pasujących do filtra listy (wszystkie strony):"
    )
    expect(page.locator("#bulk-summary")).to_contain_text(
        "6 rekordów opiekunów, którzy odeszli, trafi do użytkownika wybranego poniżej:"
    )
    expect(page.locator("#summary-owners")).to_have_text(
        "Stefan Sprzedawca: 6 rekordów — Firma 0, Firma 1, Firma 2, Firma 3, Firma 4 i 1 inny"
    )
    expect(page.get_by_label("Przekaż do")).to_have_value("__None")  # nobody until the admin chooses
    page.get_by_role("button", name="Przekaż", exact=True).click()
    expect(page.get_by_text("To pole jest wymagane.")).to_be_visible()
    assert set(owners(api, admin, "/companies", portfolio["companies"])) == {seller["id"]}, "nothing moved yet"
    page.get_by_label("Przekaż do").select_option(label=manager["name"])
    page.get_by_role("button", name="Przekaż", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("6 rekordów przekazano do: Marta Manager")

    assert set(owners(api, admin, "/companies", portfolio["companies"])) == {manager["id"]}
    assert owners(api, admin, "/companies", [theirs]) == [other_seller["id"]]
    [listed] = created(api.get("/offboarding/transfers", admin))["items"]
    assert (listed["status"], listed["origin"]) == ("done", "list"), listed
    expect(page.locator("table.model-list")).not_to_contain_text("Firma")  # no company of a departed owner left
    from_menu(page, "Rekordy", "Firmy")
    expect(page.locator("table.model-list tbody tr", has_text="Firma 5")).to_contain_text("Marta Manager")
