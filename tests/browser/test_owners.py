"""The owners of records, as a sales manager looks after them in the panel: periods added,
changed and ended from a record's page (overlaps asked about before anything is saved),
the owner on a chosen day, "Change owner…" that names the records it will change, and the
"Records by owner" report with its pages, totals and Excel export."""

from __future__ import annotations

from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.ownership.support import day, polish_day


def company(api, user, name: str) -> dict:
    response = api.post("/companies", user, json={"name": name})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def periods_of(api, user, firm_id: int) -> list[tuple]:
    items = api.get(f"/ownership/assignments?object_type=company&object_id={firm_id}", user).get_json()["items"]
    return [(row["user_id"], row["kind"], row["access"], row["valid_from"], row["valid_to"]) for row in items]


def test_a_manager_adds_a_deputy_from_the_record_page_and_sees_who_owned_it_on_a_day(
    page, api, manager, seller, other_seller
):
    firm = company(api, seller, "Agro-Tech")
    log_in(page, manager)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    page.get_by_role("link", name="Dodaj opiekuna lub zastępcę").click()
    page.get_by_label("Użytkownik").select_option(label=other_seller["name"])
    page.get_by_label("Typ opiekuna").select_option(label="Zastępca")
    page.get_by_label("Dostęp zastępcy").select_option(label="Tylko odczyt")
    page.get_by_role("button", name="Zapisz", exact=True).click()

    expect(page.locator(".alert-success")).to_contain_text("Dodano zastępcę do 1 rekordu.")
    history = page.locator("#ownership-history")
    expect(history).to_contain_text(other_seller["name"])
    expect(history).to_contain_text("Tylko odczyt")
    expect(history).to_contain_text("sprzedaż")  # the default owner role, in Polish
    assert (other_seller["id"], "deputy", "read", day(), None) in periods_of(api, manager, firm["id"])

    page.get_by_label("Opiekun w dniu").fill(day(-400))
    page.locator("#owners-on-day").get_by_role("button", name="Pokaż").click()
    expect(page.locator("#owners-on-day-answer")).to_contain_text(
        f"W dniu {polish_day(-400)} rekord nie miał opiekuna."
    )
    page.get_by_label("Opiekun w dniu").fill(day())
    page.locator("#owners-on-day").get_by_role("button", name="Pokaż").click()
    answer = page.locator("#owners-on-day-answer")
    expect(answer).to_contain_text(f"Opiekun w dniu {polish_day()}: {seller['name']}")
    expect(answer).to_contain_text(f"Zastępcy: {other_seller['name']} (Tylko odczyt)")


def test_a_new_owner_over_the_current_one_is_asked_about_before_anything_is_saved(
    page, api, manager, seller, other_seller
):
    firm = company(api, seller, "Stal-Bud")
    log_in(page, manager)
    page.goto(f"/admin/ownership_periods/add/company/{firm['id']}/")
    page.get_by_label("Użytkownik").select_option(label=other_seller["name"])
    page.get_by_role("button", name="Zapisz", exact=True).click()

    question = page.locator("#overlap-question")
    expect(question).to_contain_text("Nowy okres nakłada się na te okresy rekordu:")
    expect(question).to_contain_text(f"{seller['name']} — Główny opiekun")
    assert api.get(f"/companies/{firm['id']}", manager).get_json()["owner_id"] == seller["id"], "nothing saved yet"

    question.get_by_role("button", name="Tak, zastąp je").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Zmieniono opiekuna 1 rekordu (zakończono wcześniejszy okres: 1)."
    )
    assert api.get(f"/companies/{firm['id']}", manager).get_json()["owner_id"] == other_seller["id"]


def test_a_manager_changes_a_deputy_period_and_then_ends_it(page, api, manager, seller, other_seller):
    firm = company(api, seller, "Hurt-Pol")
    added = api.post(
        "/ownership/assignments",
        manager,
        json={"object_type": "company", "object_ids": [firm["id"]], "user_id": other_seller["id"], "kind": "deputy"},
    )
    assert added.status_code == 201, added.get_json()
    log_in(page, manager)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    deputy_row = page.locator("#ownership-history tr", has_text="Zastępca")
    deputy_row.get_by_role("link", name="Zmień").click()
    page.get_by_label("Dostęp zastępcy").select_option(label="Tylko odczyt")
    page.get_by_role("button", name="Zapisz", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("Okres zapisany.")
    assert (other_seller["id"], "deputy", "read", day(), None) in periods_of(api, manager, firm["id"])

    deputy_row = page.locator("#ownership-history tr", has_text="Zastępca")
    deputy_row.get_by_label("Ostatni dzień").fill(day(7))
    deputy_row.get_by_role("button", name="Zakończ okres").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Okres kończy się {polish_day(7)}.")
    expect(page.locator("#ownership-history")).to_contain_text(f"{polish_day()} – {polish_day(7)}")
    assert (other_seller["id"], "deputy", "read", day(), day(7)) in periods_of(api, manager, firm["id"])


def test_a_colleague_sees_the_owners_but_no_buttons_to_change_them(page, api, seller, other_seller):
    firm = company(api, seller, "Cudza firma")
    log_in(page, other_seller)
    page.goto(f"/admin/company/details/?id={firm['id']}")
    expect(page.locator("#ownership-history")).to_contain_text(seller["name"])
    expect(page.get_by_role("link", name="Dodaj opiekuna lub zastępcę")).to_have_count(0)
    expect(page.locator("#ownership-history").get_by_role("button", name="Zakończ okres")).to_have_count(0)
    response = page.goto(f"/admin/ownership_periods/add/company/{firm['id']}/")
    assert response.status == 403


def test_change_owner_names_the_records_and_a_no_op_is_reported_as_nothing_changed(page, api, manager, seller):
    first, second = company(api, seller, "Pierwsza sp. z o.o."), company(api, seller, "Druga S.A.")
    log_in(page, manager)
    page.goto("/admin/company/")
    for firm in (first, second):
        page.locator(f"input.action-checkbox[value='{firm['id']}']").check()
    page.get_by_role("button", name="Z wybranych").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Zmień opiekuna…").click()

    records = page.locator("#bulk-records")
    expect(page.locator("#bulk-scope")).to_contain_text("Wybrane 2 rekordy:")
    expect(records).to_contain_text(f"Pierwsza sp. z o.o. — opiekun: {seller['name']}")
    expect(records).to_contain_text(f"Druga S.A. — opiekun: {seller['name']}")
    page.get_by_label("Nowy opiekun").select_option(label=seller["name"])
    page.get_by_role("button", name="Zmień opiekuna", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Nic nie zmieniono: 2 rekordy mają już tego opiekuna w tym okresie."
    )
    assert len(periods_of(api, manager, first["id"])) == 1


def test_records_by_owner_pages_filters_counts_and_exports_to_excel(page, api, manager, seller, tmp_path):
    for number in range(1, 56):
        company(api, seller, f"Klient {number:02d}")
    lead = api.post("/leads", seller, json={"name": "Zapytanie z targów"})
    assert lead.status_code == 201, lead.get_json()
    log_in(page, manager)
    page.get_by_role("link", name="Rekordy wg opiekuna").click()
    page.get_by_label("Użytkownik").select_option(label=seller["name"])
    page.get_by_role("button", name="Pokaż").click()

    totals = page.locator("#report-totals")
    expect(totals).to_contain_text("Firmy: 55")
    expect(totals).to_contain_text("razem 56 okresów")
    expect(page.locator("#report tbody tr")).to_have_count(50)
    page.locator(".pagination").get_by_role("link", name="2").click()
    expect(page.locator("#report tbody tr")).to_have_count(6)

    page.get_by_label("Typ rekordu").select_option(value="lead")
    page.get_by_role("button", name="Pokaż").click()
    expect(page.locator("#report tbody tr")).to_have_count(1)
    expect(page.locator("#report")).to_contain_text("Zapytanie z targów")

    page.get_by_label("Typ rekordu").select_option(value="company")
    page.get_by_role("button", name="Pokaż").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Eksportuj do Excela").click()
    download = download_info.value
    assert download.suggested_filename.startswith("rekordy-wg-opiekuna-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = load_workbook(saved)
    sheet = workbook["Rekordy wg opiekuna"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Rekord", "Typ", "Typ opiekuna", "Rola opiekuna", "Od", "Do")
    assert len(rows) == 56 and {row[1] for row in rows[1:]} == {"Firma"}
    assert sorted(row[0] for row in rows[1:]) == [f"Klient {number:02d}" for number in range(1, 56)]


def test_a_manager_gives_every_record_matching_a_filter_a_new_owner_across_pages(
    page, api, manager, seller, other_seller
):
    for number in range(1, 56):
        company(api, seller, f"Hurtownia {number:02d}")
    company(api, other_seller, "Cudza firma")
    log_in(page, manager)
    page.goto("/admin/company/")
    page.get_by_role("link", name="Dodaj filtr").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Opiekun", exact=True).click()
    page.locator("select.filter-val").last.select_option(label=seller["name"], force=True)  # under select2
    page.get_by_role("button", name="Zastosuj").click()
    expect(page.get_by_role("link", name="Wszystkie 55 pasujących")).to_be_visible()
    page.wait_for_load_state("load")  # the menus open once the page's scripts ran

    page.get_by_role("link", name="Wszystkie 55 pasujących").click()
    page.locator(".dropdown-menu.show").get_by_role("link", name="Zmień opiekuna…").click()
    expect(page.locator("#bulk-scope")).to_contain_text(
        "Wszystkie 55 rekordów pasujących do filtra listy (wszystkie strony):"
    )
    expect(page.locator("#bulk-records")).to_contain_text("i jeszcze 35")
    expect(page.locator("#bulk-records")).not_to_contain_text("Cudza firma")
    page.get_by_label("Nowy opiekun").select_option(label=manager["name"])
    page.get_by_role("button", name="Zmień opiekuna", exact=True).click()

    expect(page.locator(".alert-success")).to_contain_text(
        "Zmieniono opiekuna 55 rekordów (zakończono lub skrócono wcześniejsze okresy: 55)."
    )
    owners = {
        firm["name"]: firm["owner_id"] for firm in api.get("/companies?per_page=100", manager).get_json()["items"]
    }
    assert sum(owner == manager["id"] for owner in owners.values()) == 55
    assert owners["Cudza firma"] == other_seller["id"]
