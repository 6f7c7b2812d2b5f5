"""Offboarding in the admin panel, as an administrator uses it when Stefan leaves: the list
of departed users with what they still have, Stefan's page (the preview and the transfer
form — one colleague, or split per type and across a team), the transfer's page (progress,
undo and what undo kept), "Transfer to…" on a record list filtered by departed owner, and
the pages closed to anyone without the permission ``offboarding.transfer``."""

from __future__ import annotations

import re
import time

from sqlalchemy import delete, func, select, update

from opiekun.extensions import db
from opiekun.models import Company
from opiekun.plugins.offboarding.models import MovedItem, Transfer
from opiekun.testing.clients import flashed, logged_in
from tests.offboarding.transfer_helpers import FINISHED, created, depart, owners, task_type_id

OFFBOARDING = "/admin/offboarding/"
TRANSFERS = "/admin/offboarding/transfers/"
#: A form page any logged-in user may open: where a hand-made POST takes its CSRF token.
ANY_FORM = "/admin/company/new/"


def user_page(user: dict) -> str:
    return f"{OFFBOARDING}user/{user['id']}/"


def companies(api, owner: dict, count: int, prefix: str = "Firma") -> list[int]:
    return [created(api.post("/companies", owner, json={"name": f"{prefix} {n}"}))["id"] for n in range(count)]


def transfers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Transfer))


def summarize(browser, user: dict, **fields):
    """Send the transfer form of ``user``'s page (every type ticked unless said otherwise):
    the page answers with the summary to confirm, or the refusal."""
    ticks = dict.fromkeys(re.findall(r'name="(take_\w+)"', browser.text(user_page(user))), "y")
    data = {**ticks, "mode": "one", "include_closed": "y", "option_deputies_stay": "y", **fields}
    return browser.submit(user_page(user), {name: value for name, value in data.items() if value is not False})


def confirmation(response) -> str | None:
    """The value of the summary's "Confirm and start the transfer" (``None``: no summary)."""
    match = re.search(r'name="confirmed" value="([^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def start(browser, user: dict, **fields):
    """Send the transfer form of ``user``'s page, then confirm its summary, as the admin does
    (a refusal of the form is answered at once)."""
    summary = summarize(browser, user, **fields)
    fingerprint = confirmation(summary)
    if fingerprint is None:
        return summary
    return summarize(browser, user, **fields, confirmed=fingerprint)


def started_transfer(response) -> str:
    """The transfer page a successful form sends the browser to."""
    assert response.status_code == 302, flashed(response)
    location = response.headers["Location"]
    assert re.search(r"/admin/offboarding/transfers/\d+/$", location), location
    return location


def wait_until_finished(browser, transfer_page: str, timeout: float = 30) -> dict:
    """Poll the state the page's progress bar reads, until the job has finished."""
    deadline = time.monotonic() + timeout
    while True:
        response = browser.get(f"{transfer_page}state.json")
        assert response.status_code == 200, response.status_code
        state = response.get_json()
        if state["status"] in FINISHED:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.05)


def test_a_users_admin_page_says_what_they_still_have_and_links_to_their_offboarding(app, api, admin, manager, seller):
    companies(api, seller, 3)
    depart(api, admin, seller)
    page = logged_in(app, admin).text(f"/admin/users/details/?id={seller['id']}")
    assert "Nadal ma 3 elementy." in page and "Przejrzyj i przekaż wszystko" in page and user_page(seller) in page
    created(api.post("/roles", admin, json={"name": "kadry", "label": "Kadry", "permissions": ["users.manage"]}))
    created(api.patch(f"/users/{manager['id']}", admin, json={"role": "kadry"}))
    without_right = logged_in(app, manager).text(f"/admin/users/details/?id={seller['id']}")
    assert seller["email"] in without_right and "Przejrzyj i przekaż wszystko" not in without_right


def test_departed_users_are_listed_with_what_they_have_and_their_page_previews_it(
    app, api, admin, seller, other_seller, pipeline
):
    companies(api, seller, 2)
    won = created(api.post("/deals", seller, json={"name": "Serwis", "stage": "Kontakt"}))
    created(api.post(f"/deals/{won['id']}/win", seller, json={}))
    created(api.post("/deals", seller, json={"name": "Pompy", "stage": "Oferta"}))
    created(api.post("/tasks", seller, json={"title": "Zadzwonić", "type_id": task_type_id(api, seller)}))
    depart(api, admin, seller)
    browser = logged_in(app, admin)

    page = re.sub(r"</?strong>", "", browser.text(OFFBOARDING))
    listing = page[page.index("</form>", page.index('id="open-user"')) :]
    assert seller["name"] in listing and other_seller["name"] not in listing, "departed users only"
    assert f'<option value="{other_seller["id"]}">' in page, "any user's page can be opened"
    assert "Firmy: 2" in listing and "Szanse sprzedaży: 2" in listing and "Przejrzyj i przekaż wszystko" in listing
    assert user_page(seller) in listing
    assert (
        browser.get(f"{OFFBOARDING}open/?user_id={other_seller['id']}")
        .headers["Location"]
        .endswith(user_page(other_seller))
    )

    page = browser.text(user_page(seller))
    preview = page[page.index('id="preview-table"') : page.index("</table>", page.index('id="preview-table"'))]
    rows = re.findall(
        r"<tr>\s*<td>(?:<a[^>]*>)?([^<]+)(?:</a>)?</td>\s*<td>([^<]+)</td>\s*"
        r'<td class="text-right">(\d+)</td>\s*<td class="text-right">(\d+)</td>',
        preview,
    )
    assert ("Firmy", "opiekun", "2", "0") in rows and ("Szanse sprzedaży", "opiekun", "1", "1") in rows
    assert ("Zadania", "odpowiedzialny", "1", "0") in rows
    assert 'id="preview-total">5<' in page and 'id="transfer-form"' in page
    open_only = browser.text(user_page(seller) + "?include_closed=0")
    assert 'id="preview-total">4<' in open_only
    assert "Pokaż, co zostanie przekazane" in page


def test_a_transfer_to_one_colleague_runs_with_progress_and_moves_what_was_chosen(
    app, api, admin, seller, other_seller
):
    firms = companies(api, seller, 3)
    kind = task_type_id(api, seller)
    task = created(api.post("/tasks", seller, json={"title": "Zadzwonić", "type_id": kind}))
    done = created(api.post("/tasks", seller, json={"title": "Spotkanie", "type_id": kind}))
    created(api.patch(f"/tasks/{done['id']}", seller, json={"done": True}))
    depart(api, admin, seller)
    browser = logged_in(app, admin)

    page_url = started_transfer(start(browser, seller, to_user=str(other_seller["id"]), include_closed=False))
    state = wait_until_finished(browser, page_url)
    assert state["status"] == "done" and state["progress"] == {"done": 4, "total": 4}
    assert set(owners(api, admin, "/companies", firms)) == {other_seller["id"]}
    assert owners(api, admin, "/tasks", [task["id"], done["id"]]) == [other_seller["id"], seller["id"]], (
        "open items only: the done task stays"
    )

    page = browser.text(page_url)
    assert 'class="badge badge-success">gotowe<' in page and "4 / 4" in page and 'style="width: 100%"' in page
    assert "Cofnij" in page and 'id="resume-form"' not in page
    assert "Firma 0" in page and other_seller["name"] in page, "the moved items are listed"
    assert 'id="preview-total">1<' in browser.text(user_page(seller)), "the done task is left"
    assert f">#{state['id']}<" in browser.text(TRANSFERS)


def test_a_failed_transfer_is_resumed_from_its_page(app, api, admin, seller, other_seller):
    firms = companies(api, seller, 2)
    depart(api, admin, seller)
    browser = logged_in(app, admin)
    page_url = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    state = wait_until_finished(browser, page_url)
    with app.app_context():  # as if its only step had been rolled back when the database went away
        transfer = db.session.get(Transfer, state["id"])
        transfer.status, transfer.error, transfer.moved = "failed", "OperationalError: connection lost", 0
        transfer.steps[0].done_at = transfer.steps[0].moved = transfer.steps[0].counts = None
        db.session.execute(delete(MovedItem).where(MovedItem.transfer_id == transfer.id))
        db.session.execute(update(Company).values(owner_id=seller["id"]))
        db.session.commit()

    page = browser.text(page_url)
    assert 'id="transfer-error"' in page and "connection lost" in page and 'id="resume-form"' in page
    resumed = browser.submit(f"{page_url}resume/", {}, form_url=page_url)
    assert resumed.status_code == 302
    assert wait_until_finished(browser, page_url)["status"] == "done"
    assert set(owners(api, admin, "/companies", firms)) == {other_seller["id"]}
    refused = browser.submit(f"{page_url}resume/", {}, form_url=ANY_FORM, follow_redirects=True)
    assert "nie można wznowić" in flashed(refused), "the refusal in the admin's language"


def test_a_split_gives_types_to_different_users_and_shares_the_rest_by_weight(
    app, api, admin, seller, other_seller, manager
):
    firms = companies(api, seller, 6)
    persons = [
        created(api.post("/persons", seller, json={"first_name": "P", "last_name": str(n)}))["id"] for n in range(2)
    ]
    depart(api, admin, seller)
    browser = logged_in(app, admin)

    response = start(
        browser,
        seller,
        mode="split",
        to_person=str(other_seller["id"]),
        **{
            "team-0-user": str(manager["id"]),
            "team-0-share": "2",
            "team-1-user": str(admin["id"]),
            "team-1-share": "1",
        },
    )
    state = wait_until_finished(browser, started_transfer(response))
    assert state["status"] == "done"
    assert set(owners(api, admin, "/persons", persons)) == {other_seller["id"]}
    got = owners(api, admin, "/companies", firms)
    assert (got.count(manager["id"]), got.count(admin["id"])) == (4, 2)


def test_a_bad_form_shows_the_message_naming_the_field_and_changes_nothing(
    app, api, admin, seller, other_seller, manager
):
    firms = companies(api, seller, 2)
    created(api.post("/persons", seller, json={"first_name": "Jan", "last_name": "Nowak"}))
    browser = logged_in(app, admin)

    still_active = start(browser, seller, to_user=str(other_seller["id"]))
    assert (
        still_active.status_code == 200
        and "Użytkownik: " in flashed(still_active)
        and "zaznacz „Zezwól na aktywnego użytkownika”" in flashed(still_active)
    )
    depart(api, admin, seller)
    depart(api, admin, manager)
    to_departed = start(browser, seller, to_user=str(manager["id"]))
    assert "Odbiorca: " in flashed(
        to_departed
    ) and "nie pracuje już w firmie i nie może otrzymywać elementów" in flashed(to_departed)
    uncovered = start(browser, seller, mode="split", to_company=str(other_seller["id"]))
    assert "Podział: nikt nie dostaje: Osoby" in flashed(uncovered), "the type by its Polish label"
    departed_member = start(browser, seller, mode="split", **{"team-0-user": "", "team-1-user": str(manager["id"])})
    assert "Członek zespołu 2: " in flashed(departed_member)
    nothing_ticked = start(browser, seller, to_user=str(other_seller["id"]), take_company=False, take_person=False)
    assert "Typy rekordów: " in flashed(nothing_ticked)

    assert transfers(app) == 0, "nothing was planned"
    assert owners(api, admin, "/companies", firms) == [seller["id"], seller["id"]]


def test_undo_from_the_admin_puts_items_back_and_lists_what_it_kept(app, api, admin, seller, other_seller):
    firms = companies(api, seller, 3)
    theirs = created(api.post("/companies", other_seller, json={"name": "Cudza"}))["id"]
    created(
        api.post(
            "/ownership/assignments",
            admin,
            json={"object_type": "company", "object_ids": [theirs], "user_id": seller["id"], "kind": "deputy"},
        )
    )
    depart(api, admin, seller)
    browser = logged_in(app, admin)
    page_url = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    wait_until_finished(browser, page_url)
    created(api.patch(f"/companies/{firms[0]}", other_seller, json={"phone": "+48 600 100 200"}))
    [handed] = [
        period
        for period in created(
            api.get(f"/ownership/assignments?object_type=company&object_id={theirs}&kind=deputy", admin)
        )["items"]
        if period["user_id"] == other_seller["id"]
    ]
    assert api.delete(f"/ownership/assignments/{handed['id']}", admin).status_code == 204

    page = browser.text(page_url)
    assert 'data-confirm="Przywrócić' in page
    undone = browser.submit(f"{page_url}undo/", {}, form_url=page_url, follow_redirects=True)
    message = flashed(undone)
    assert "Cofnięto: 2 elementy wróciły na miejsce, 2 elementy pozostały bez zmian (lista poniżej)." in message, (
        message
    )
    assert owners(api, admin, "/companies", firms) == [other_seller["id"], seller["id"], seller["id"]]
    page = browser.text(page_url)
    kept = page[page.index('id="items-table"') :]
    assert "Firma 0" in kept and "Firma 1" not in kept and "zmieniony od tego czasu" in kept
    assert re.search(
        r">Cudza</a></td>\s*<td>Zastępca</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td[^>]*>usunięty od tego czasu</td>",
        kept,
    ), "the deputy period removed since is listed as kept, with the reason"
    assert 'id="undo-result"' in page and "Cofnij</button>" not in page
    outcomes = page[page.index('id="undo-result"') : page.index('id="recipients"')]
    assert re.search(r"<td>Firmy</td>\s*<td>Opiekun</td>\s*<td[^>]*>2</td>", outcomes), "per type and field: 2 put back"
    again = browser.submit(f"{page_url}undo/", {}, form_url=ANY_FORM, follow_redirects=True)
    assert "zostało już cofnięte" in flashed(again)
    browser.switch_language("en")
    again = browser.submit(f"{page_url}undo/", {}, form_url=ANY_FORM, follow_redirects=True)
    assert "was already undone" in flashed(again), "in English for a user who chose English"


def test_transfer_to_on_the_company_list_filtered_by_departed_owner_moves_every_page(
    app, api, admin, seller, other_seller, manager
):
    firms = companies(api, seller, 55, "Hurt")
    active_firm = companies(api, other_seller, 1, "Cudza")[0]
    depart(api, admin, seller)
    browser = logged_in(app, admin)

    unfiltered = browser.text("/admin/company/")
    link = re.search(r'href="([^"]*/bulk/offboarding_transfer_to/\?[^"]*scope=all[^"]*)"', unfiltered).group(1)
    warned = browser.text(link)
    assert "1 rekord należy do aktywnego użytkownika (Olga Inna)" in warned, "said before anything is tried"
    refused = browser.submit(link, {"user": str(manager["id"])}, follow_redirects=True)
    assert "Zaznaczenie zawiera rekordy aktywnych użytkowników" in flashed(refused) and transfers(app) == 0
    assert "Zaznaczone rekordy: 1 opiekun jest aktywny" in flashed(refused), "the field named in Polish"

    departed_filter = browser.filter_arg("/admin/company/", "Opiekun odszedł")
    listed = browser.text(f"/admin/company/?flt0_{departed_filter}=1")
    assert "Wszystkie 55 pasujących" in listed and "Przekaż…" in listed
    link = re.search(r'href="([^"]*/bulk/offboarding_transfer_to/\?[^"]*scope=all[^"]*)"', listed).group(1)
    form = browser.text(link)
    assert "Wszystkie 55 rekordów pasujących do filtra listy" in form and "Przekaż do" in form
    assert "Stefan Sprzedawca</strong>: 55 rekordów — Hurt 0, Hurt 1, Hurt 2, Hurt 3, Hurt 4 i 50 innych" in form
    done = browser.submit(link, {"user": str(manager["id"])}, follow_redirects=True)
    assert "55 rekordów przekazano do: Marta Manager (od 1 byłego opiekuna)." in flashed(done)
    assert set(owners(api, admin, "/companies", firms)) == {manager["id"]}
    assert owners(api, admin, "/companies", [active_firm]) == [other_seller["id"]]
    assert "lista rekordów" in browser.text(TRANSFERS)


def test_without_the_permission_every_offboarding_page_is_forbidden(app, api, admin, seller, other_seller, manager):
    firm = companies(api, seller, 1)[0]
    depart(api, admin, seller)
    admin_browser = logged_in(app, admin)
    page_url = started_transfer(start(admin_browser, seller, to_user=str(other_seller["id"])))
    wait_until_finished(admin_browser, page_url)
    assert OFFBOARDING in admin_browser.text("/admin/")

    browser = logged_in(app, manager)
    assert OFFBOARDING not in browser.text("/admin/"), "no menu entry"
    assert "Przekaż…" not in browser.text("/admin/company/")
    for url in (
        OFFBOARDING,
        user_page(seller),
        f"{OFFBOARDING}open/?user_id={seller['id']}",
        TRANSFERS,
        page_url,
        f"{page_url}state.json",
        f"/admin/company/bulk/offboarding_transfer_to/?ids={firm}",
    ):
        assert browser.get(url).status_code == 403, url
    for url in (user_page(seller), f"{page_url}undo/", f"{page_url}resume/"):
        assert (
            browser.submit(url, {"mode": "one", "to_user": str(manager["id"])}, form_url=ANY_FORM).status_code == 403
        ), url
    assert owners(api, admin, "/companies", [firm]) == [other_seller["id"]], "nothing was undone"


def moved_names(browser, page_url: str) -> list[str]:
    """The records named in the moved items' table of one page of a transfer."""
    page = browser.text(page_url)
    table = page[page.index('id="items-table"') : page.index("</table>", page.index('id="items-table"'))]
    return re.findall(r">(Hurt \d+)</a>", table)


def test_unknown_pages_are_404_and_the_moved_items_come_in_pages(app, api, admin, seller, other_seller):
    browser = logged_in(app, admin)
    for url in (
        f"{OFFBOARDING}user/999999/",
        f"{OFFBOARDING}user/{2**40}/",
        f"{TRANSFERS}999999/",
        f"{TRANSFERS}{2**40}/state.json",
    ):
        assert browser.get(url).status_code == 404, url
    for url in (f"{TRANSFERS}999999/undo/", f"{TRANSFERS}999999/resume/"):
        assert browser.submit(url, {}, form_url=ANY_FORM).status_code == 404, url

    firms = companies(api, seller, 26, "Hurt")
    depart(api, admin, seller)
    page_url = started_transfer(start(browser, seller, to_user=str(other_seller["id"])))
    wait_until_finished(browser, page_url)
    first, second = moved_names(browser, page_url), moved_names(browser, f"{page_url}?page=2")
    assert len(first) == 25 and len(second) == 1 and len(set(first + second)) == len(firms)
    for page in ("0", "abc", "-1", "1000001", "99999999999999999999"):
        assert moved_names(browser, f"{page_url}?page={page}") == first, f"?page={page} opens the first page"
    assert moved_names(browser, f"{page_url}?page=3") == [], "beyond the last page: empty"
