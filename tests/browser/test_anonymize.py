"""A GDPR request: an admin anonymizes a person from the person's page, after a
confirmation that says what will be scrubbed; a salesperson cannot."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in


def person_with_history(api, seller) -> dict:
    person = api.post(
        "/persons",
        seller,
        json={"first_name": "Jan", "last_name": "Kowalski", "email": "jan@kowalski.example", "phone": "600100200"},
    )
    assert person.status_code == 201, person.get_json()
    person = person.get_json()
    changed = api.patch(f"/persons/{person['id']}", seller, json={"phone": "600100300"})
    assert changed.status_code == 200, changed.get_json()
    return person


def test_an_admin_anonymizes_a_person_after_reading_what_will_be_scrubbed(page, api, admin, seller):
    person = person_with_history(api, seller)
    log_in(page, admin)
    page.goto(f"/admin/person/details/?id={person['id']}")
    page.get_by_role("link", name="Anonimizuj tę osobę (RODO)…").click()

    summary = page.locator("#anonymize-summary")
    expect(summary).to_contain_text("w rekordzie: Imię, Nazwisko, E-mail, Telefon")
    expect(summary).to_contain_text("w historii: imię, nazwisko i dane osobowe w 2 wpisach historii osoby")
    expect(summary).to_contain_text("Tego nie można cofnąć.")
    assert api.get(f"/persons/{person['id']}", admin).get_json()["email"] == "jan@kowalski.example", "not yet"

    page.get_by_role("button", name="Anonimizuj nieodwracalnie").click()
    expect(page.locator(".alert-success")).to_contain_text("Osoba zanonimizowana; wyczyszczono 2 wpisy historii.")
    scrubbed = api.get(f"/persons/{person['id']}", admin).get_json()
    assert (scrubbed["first_name"], scrubbed["last_name"], scrubbed["email"], scrubbed["phone"]) == (
        "Zanonimizowana",
        f"osoba #{person['id']}",
        None,
        None,
    ), "named in the language of the admin who anonymized"
    expect(page.locator("body")).not_to_contain_text("Kowalski")
    expect(page.locator("#record-history")).to_contain_text("(zanonimizowano)")  # the history says so, in Polish
    expect(page.locator("#record-history")).not_to_contain_text("(anonymized)")
    expect(page.get_by_role("link", name="Anonimizuj tę osobę (RODO)…")).to_have_count(0)

    page.goto(f"/admin/audit_anonymize/person/{person['id']}/")
    expect(page.locator(".alert-danger")).to_contain_text("Ta osoba została już zanonimizowana.")


def test_a_salesperson_sees_no_anonymize_button_and_cannot_open_the_page(page, api, seller):
    person = person_with_history(api, seller)
    log_in(page, seller)
    page.goto(f"/admin/person/details/?id={person['id']}")
    expect(page.get_by_role("link", name="Anonimizuj tę osobę (RODO)…")).to_have_count(0)
    response = page.goto(f"/admin/audit_anonymize/person/{person['id']}/")
    assert response.status == 403
    assert api.get(f"/persons/{person['id']}", seller).get_json()["last_name"] == "Kowalski"
