"""The tasks plugin in good Polish (issue 17): the calendar feed in the language of the user
whose feed it is ("Zajęty", not "Zajęty (busy)"), counts in the three Polish plural forms
("1 zadanie", "2 zadania", "5 zadań"), record types, levels and outcomes by their labels
in refusals ("(Firma)", not "(company)"), refusals flashed as sentences, and no English
left on the task pages."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import select

from opiekun.extensions import db
from opiekun.models import Notification, User
from opiekun.plugins.tasks.admin import sharing  # noqa: F401 - imported outside any app, as before the fix
from opiekun.plugins.tasks.admin.apply_template import tasks_created_from
from opiekun.plugins.tasks.admin.configuration import template_item_text
from opiekun.plugins.tasks.admin.task_view import next_tasks_created, tasks_added, tasks_marked_done
from opiekun.testing.clients import flashed, logged_in

#: The counts every plural text is checked with: one, a few, many, and the teens' traps.
COUNTS = (1, 2, 5, 22, 25)


def type_ids(api, user) -> dict[str, int]:
    return {item["name"]: item["id"] for item in api.get("/task-types", user).get_json()["items"]}


def new_task(api, user, **values) -> dict:
    body = {"title": "Spotkanie z ACME", "type_id": type_ids(api, user)["Spotkanie"], "due_date": "2030-03-04"}
    response = api.post("/tasks", user, json={**body, **values})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def set_language(app, user: dict, language: str | None) -> None:
    with app.app_context():
        db.session.get(User, user["id"]).locale = language
        db.session.commit()


def feed_events(api, owner: dict, holder: dict, **headers) -> dict[str, dict[str, str]]:
    """The events of ``owner``'s feed read with ``holder``'s calendar token, by summary."""
    token = api.get("/tasks/calendar-token", holder).get_json()["token"]
    response = api.http.get(f"/calendar/{owner['id']}.ics", query_string={"token": token}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    events = Calendar.from_ical(response.data).walk("VEVENT")
    return {str(event["summary"]): {"description": str(event.get("description", ""))} for event in events}


# --- the calendar feed ---------------------------------------------------------------------


def test_the_calendar_feed_speaks_the_language_of_the_user_whose_feed_it_is(app, api, seller, other_seller):
    company = api.post("/companies", seller, json={"name": "ACME"}).get_json()
    new_task(api, seller, title="Wizyta", object_type="company", object_id=company["id"], description="Budżet")
    done = new_task(api, seller, title="Telefon", type_id=type_ids(api, seller)["Telefon"])
    assert api.patch(f"/tasks/{done['id']}", seller, json={"done": True}).status_code == 200
    api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "free_busy"})

    own = feed_events(api, seller, seller)
    assert own["Wizyta"]["description"] == f"Typ: Spotkanie\nRekord: Firma #{company['id']}\nBudżet"
    assert own["Telefon"]["description"] == "Typ: Telefon\nWykonane"
    assert set(feed_events(api, seller, other_seller)) == {"Zajęty"}, "Polish by default"
    assert set(feed_events(api, seller, other_seller, **{"Accept-Language": "en"})) == {"Zajęty"}, (
        "a calendar app's headers do not choose the language"
    )

    set_language(app, seller, "en")
    own = feed_events(api, seller, seller)
    assert own["Wizyta"]["description"] == f"Type: Spotkanie\nRecord: Company #{company['id']}\nBudżet"
    assert own["Telefon"]["description"] == "Type: Telefon\nDone"
    assert set(feed_events(api, seller, other_seller)) == {"Busy"}, "the owner's language, not the reader's"

    set_language(app, seller, None)
    set_language(app, other_seller, "en")
    assert set(feed_events(api, seller, other_seller)) == {"Zajęty"}


# --- counts in the three Polish plural forms ----------------------------------------------


@pytest.mark.parametrize(
    "text, forms",
    [
        (
            next_tasks_created,
            (
                "Zadanie wykonane; utworzono 1 kolejne zadanie.",
                "Zadanie wykonane; utworzono 2 kolejne zadania.",
                "Zadanie wykonane; utworzono 5 kolejnych zadań.",
                "Zadanie wykonane; utworzono 22 kolejne zadania.",
                "Zadanie wykonane; utworzono 25 kolejnych zadań.",
            ),
        ),
        (
            tasks_added,
            ("Dodano 1 zadanie.", "Dodano 2 zadania.", "Dodano 5 zadań.", "Dodano 22 zadania.", "Dodano 25 zadań."),
        ),
        (
            tasks_marked_done,
            (
                "Oznaczono 1 zadanie jako wykonane.",
                "Oznaczono 2 zadania jako wykonane.",
                "Oznaczono 5 zadań jako wykonane.",
                "Oznaczono 22 zadania jako wykonane.",
                "Oznaczono 25 zadań jako wykonane.",
            ),
        ),
        (
            lambda count: tasks_created_from(count, "Nowy klient"),
            (
                "Utworzono 1 zadanie z szablonu Nowy klient.",
                "Utworzono 2 zadania z szablonu Nowy klient.",
                "Utworzono 5 zadań z szablonu Nowy klient.",
                "Utworzono 22 zadania z szablonu Nowy klient.",
                "Utworzono 25 zadań z szablonu Nowy klient.",
            ),
        ),
        (
            lambda count: template_item_text(SimpleNamespace(title="Telefon", delay_days=count)),
            ("Telefon (+1 dzień)", "Telefon (+2 dni)", "Telefon (+5 dni)", "Telefon (+22 dni)", "Telefon (+25 dni)"),
        ),
    ],
    ids=["next tasks created", "tasks added", "marked as done", "created from a template", "template item due"],
)
def test_counts_take_the_polish_plural_forms(app, text, forms):
    with app.test_request_context(), force_locale("pl"):
        assert tuple(text(count) for count in COUNTS) == forms
    with app.test_request_context(), force_locale("en"):
        assert text(1).replace("1", "5") != text(5), "English has a singular and a plural too"


@pytest.mark.parametrize(
    "count, said", [(1, "Oznaczono 1 zadanie"), (2, "Oznaczono 2 zadania"), (5, "Oznaczono 5 zadań")]
)
def test_mark_as_done_says_how_many_in_polish(app, api, seller, count, said):
    ids = [new_task(api, seller, title=f"Zadanie {n}")["id"] for n in range(count)]
    browser = logged_in(app, seller)
    done = browser.run_action("/admin/task/", "tasks_mark_done", ids)
    assert f"{said} jako wykonane." in flashed(done)


def test_next_tasks_proposed_or_created_are_counted_in_polish(app, api, admin, seller):
    types = type_ids(api, seller)
    follow = {"next_type_ids": [types["Spotkanie"], types["E-mail"]], "next_delay": 3}
    assert api.patch(f"/task-types/{types['Telefon']}", admin, json=follow).status_code == 200
    assert (
        api.patch(f"/task-types/{types['Oferta']}", admin, json={**follow, "next_mode": "trigger"}).status_code == 200
    )
    browser = logged_in(app, seller)

    proposing = new_task(api, seller, type_id=types["Telefon"])
    browser.submit("/admin/task/complete/", {"id": str(proposing["id"])}, form_url="/admin/task/")
    proposals = f"/admin/task/proposals/?id={proposing['id']}"
    accepted = browser.submit(proposals, {"accept": ["0", "1"]}, follow_redirects=True)
    assert "Dodano 2 zadania." in flashed(accepted)

    creating = new_task(api, seller, type_id=types["Oferta"])
    completed = browser.submit(
        "/admin/task/complete/", {"id": str(creating["id"])}, form_url="/admin/task/", follow_redirects=True
    )
    assert "Zadanie wykonane; utworzono 2 kolejne zadania." in flashed(completed)


# --- the task pages in Polish ------------------------------------------------------------


def test_the_task_pages_name_every_field_in_polish(app, api, seller, other_seller):
    task = new_task(api, seller, participant_ids=[other_seller["id"]])
    browser = logged_in(app, seller)
    for url in ("/admin/task/new/", f"/admin/task/edit/?id={task['id']}"):
        page = browser.text(url)
        assert "Początek" in page and "Koniec" in page, url
        assert "UTC" not in page and "Start" not in page, "times are typed on the user's clock, not in UTC"
    details = browser.text(f"/admin/task/details/?id={task['id']}")
    assert "Uczestnicy" in details and "Participants" not in details


def test_configuration_lists_show_record_types_and_pipelines_by_name(app, api, admin, pipeline):
    template = api.post(
        "/task-templates",
        admin,
        json={
            "name": "Po wygranej",
            "object_types": ["deal", "company"],
            "items": [
                {"title": "Podziękować", "type_id": type_ids(api, admin)["Telefon"], "delay_days": 1},
                {"title": "Zapytać o opinię", "type_id": type_ids(api, admin)["E-mail"], "delay_days": 22},
            ],
        },
    ).get_json()
    answer = api.post(
        "/post-sale-templates",
        admin,
        json={"pipeline_id": pipeline["id"], "outcome": "won", "template_id": template["id"]},
    )
    assert answer.status_code == 201, answer.get_json()
    browser = logged_in(app, admin)
    templates = browser.text("/admin/task_templates/")
    assert "Szanse sprzedaży, Firmy" in templates and "deal, company" not in templates
    assert "Podziękować (+1 dzień); Zapytać o opinię (+22 dni)" in templates
    post_sale = browser.text("/admin/task_post_sale/")
    assert re.search(r"<td[^>]*>\s*Sprzedaż\s*</td>", post_sale), "the pipeline by its name, not its id"


# --- refusals: labels instead of codes, sentences -----------------------------------------


def test_refusals_name_record_types_levels_and_outcomes_in_polish(app, api, admin, seller, other_seller, pipeline):
    task = new_task(api, seller)
    api.post("/task-sharing", seller, json={"grantee_id": other_seller["id"], "level": "read"})
    colleague = logged_in(app, other_seller)
    refused = colleague.submit(
        "/admin/task/complete/", {"id": str(task["id"])}, form_url="/admin/task/", follow_redirects=True
    )
    assert "Twój poziom dostępu do tego zadania to 'tylko do odczytu', a potrzebny jest 'pełny dostęp'." in flashed(
        refused
    )
    assert api.get(f"/tasks/{task['id']}", seller).get_json()["done"] is False

    browser = logged_in(app, seller)
    unknown = browser.submit(
        "/admin/task/new/",
        {
            "title": "Na nieistniejącej firmie",
            "type_id": str(type_ids(api, seller)["Telefon"]),
            "responsible_id": str(seller["id"]),
            "priority": "normal",
            "object_type": "company",
            "object_id": "999999",
            "due_date": "",
        },
        follow_redirects=True,
    )
    assert "Niektóre wartości są niepoprawne: Rekord: nie ma rekordu (Firma) o id 999999" in flashed(unknown)

    item = {"title": "Podziękować", "type_id": type_ids(api, admin)["Telefon"]}
    template = api.post(
        "/task-templates", admin, json={"name": "Powitanie", "object_types": ["deal"], "items": [item]}
    ).get_json()
    values = {"pipeline_id": pipeline["id"], "outcome": "won", "template_id": template["id"]}
    assert api.post("/post-sale-templates", admin, json=values).status_code == 201
    twice = logged_in(app, admin).submit(
        "/admin/task_post_sale/new/",
        {"pipeline_id": str(pipeline["id"]), "outcome": "won", "template": str(template["id"])},
        follow_redirects=True,
    )
    assert "Ten lejek sprzedaży ma już szablon dla szans sprzedaży z wynikiem „wygrana”" in flashed(twice)
    english = api.post("/post-sale-templates", admin, json=values).get_json()["error"]["message"]
    assert english.startswith("the pipeline already has a template for won deals"), "the API keeps the codes"


# --- reminders ------------------------------------------------------------------------------


def test_reminders_are_sent_in_the_language_of_their_user(app, api, seller, other_seller):
    for user in (seller, other_seller):
        new_task(api, user, title="Spotkanie", start="2030-01-02T10:00:00Z", reminders=[15])
    set_language(app, other_seller, "en")
    with app.app_context():
        from opiekun.plugins.tasks.jobs import send_reminders

        assert send_reminders(now="2030-01-02T09:50:00+00:00") == {"sent": 2}
        db.session.commit()
        sent = dict(db.session.execute(select(Notification.user_id, Notification.message)).all())
    assert sent == {seller["id"]: "Przypomnienie: Spotkanie", other_seller["id"]: "Reminder: Spotkanie"}


def test_the_task_lists_owner_filters_speak_of_the_responsible_user(app, api, seller):
    new_task(api, seller)
    browser = logged_in(app, seller)
    for label in ("Odpowiedzialny", "Bez odpowiedzialnego", "Odpowiedzialny nie pracuje już"):
        assert browser.filter_arg("/admin/task/", label), label
    page = browser.text("/admin/task/")
    assert "Bez opiekuna" not in page and "Opiekun odszedł" not in page
    departed = browser.filter_arg("/admin/task/", "Odpowiedzialny nie pracuje już")
    assert "Spotkanie z ACME" not in browser.text(f"/admin/task/?flt0_{departed}=1")
    assert "Spotkanie z ACME" in browser.text(f"/admin/task/?flt0_{departed}=0")


def test_choices_made_when_the_views_are_built_speak_the_readers_language(app, seller):
    """The sharing form's levels (and the other selects made when a view is built) were
    fixed in the language of whatever imported the module first (English outside an app):
    they are translated when the form is drawn."""
    browser = logged_in(app, seller)
    polish = browser.text("/admin/task_sharing/new/")
    assert ">tylko do odczytu<" in polish and ">pełny dostęp<" in polish
    browser.switch_language("en")
    english = browser.text("/admin/task_sharing/new/")
    assert ">read only<" in english and ">full access<" in english
