"""The partner contract, hook by hook: a small partner plugin made in the test implements
the hooks no other test names, and each test checks what a user would notice — the core
calls the hook at the moment its docstring (``core/hookspecs.py``) says, with the
arguments it documents, and acts on the answer (a section, panel or page shows up, a form
refuses, a count is in the preview, a switch is offered and handed to the transfer, the
rows a plugin moved are listed and judged by undo, a time off is caught up with).

One app for the module (every installed plugin plus the two made here); the tables are
emptied after each test (``tests/conftest.py``) and the plugin's notes cleared before it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask_admin import BaseView, expose
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import Integer, String, cast, func, literal, select, union_all
from wtforms.validators import ValidationError

from opiekun.changes import current_context
from opiekun.cli import cli
from opiekun.extensions import db
from opiekun.plugin import (
    Company,
    Conflict,
    ItemCount,
    Message,
    PluralMessage,
    TransferOption,
    TransferResult,
    UTCDateTime,
    current_actor,
    record_types,
    records_to_move,
    utcnow,
)
from opiekun.plugin.admin import Figure, HomePanel, LoginRequired
from opiekun.testing import ApiClient, build_app, close_app, logged_in, make_plugin
from tests.offboarding.transfer_helpers import TRANSFERS, created, depart, transfer

PARTNER = "partner"
BYSTANDER = "bystander"


# --- the partner plugin -------------------------------------------------------------------


@dataclass
class Notes:
    """What the partner plugin was asked, and the rows of its own (the companies a user
    watches, handed over with the companies): cleared before each test."""

    calls: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    refuse: set[str] = field(default_factory=set)
    #: transfer id -> the watcher rows that transfer handed over (each a dict, with its outcome)
    watchers: dict[int, list[dict]] = field(default_factory=dict)

    def clear(self) -> None:
        self.calls.clear()
        self.refuse.clear()
        self.watchers.clear()


notes = Notes()
#: the panels the partner's views were built for (at start-up, kept across tests)
admins_built: list = []


class PartnerReportView(LoginRequired, BaseView):
    """A page of the partner's own in the panel's menu."""

    def __init__(self):
        super().__init__(name="Raport partnera", endpoint="partner_report")

    @expose("/")
    def index(self):
        return f'<p id="partner-report">Raport partnera dla {escape(current_user.name)}</p>'


def admin_views(admin):
    admins_built.append(admin)
    return [PartnerReportView()]


def admin_record_sections(record_type, record):
    notes.calls["admin_record_sections"].append((record_type.name, record.id))
    if record_type.name != "company":
        return []
    return [("Partner: karta firmy", Markup('<p class="partner-card">Karta firmy {}</p>').format(record.name))]


def admin_user_sections(user):
    notes.calls["admin_user_sections"].append((user.id, current_user.id))
    return [("Partner: profil", Markup('<p class="partner-profile">Profil: {}</p>').format(user.name))]


def admin_home_panels(user):
    notes.calls["admin_home_panels"].append(user.id)
    return [
        HomePanel(
            key="partner-mine",
            title="Partner: moje zgłoszenia",
            figures=(Figure("Zgłoszenia do odpisania", 3, url="/admin/partner_report/", tone="warning"),),
        ),
        HomePanel(
            key="partner-team",
            title="Partner: zgłoszenia zespołu",
            figures=(Figure("Zgłoszenia zespołu", 7),),
            team=True,
        ),
    ]


def reserved_name(form, field):
    if "Zastrzeżona" in (field.data or ""):
        raise ValidationError("Ta nazwa jest zastrzeżona przez partnera.")


def admin_form(record_type, form, record):
    """On company forms: no website field, names with "Zastrzeżona" refused, and the tax id
    read-only once the company exists."""
    notes.calls["admin_form"].append((record_type.name, None if record is None else record.id))
    if record_type.name != "company":
        return
    del form.website
    form.name.validators = [*form.name.validators, reserved_name]
    if record is not None:
        form.tax_id.render_kw = {**(form.tax_id.render_kw or {}), "readonly": True}


def deal_closed(session, deal, outcome, reason, actor):
    notes.calls["deal_closed"].append((deal.id, deal.status, outcome, reason, actor.user_id))
    if "deal_closed" in notes.refuse:
        raise Conflict(Message("the partner's system refuses to close this deal"))


def user_departed(session, user, actor):
    notes.calls["user_departed"].append((user.id, user.status, actor.user_id))
    if "user_departed" in notes.refuse:
        raise Conflict(Message("the partner's system still needs this user"))


def watched_companies(user_id: int):
    return select(Company.id, Company.name).where(Company.owner_id == user_id).order_by(Company.id)


def user_items(user_id, include_closed):
    notes.calls["user_items"].append((user_id, include_closed))
    count = db.session.scalar(select(func.count()).select_from(watched_companies(user_id).subquery()))
    return [ItemCount("company", "Obserwowane firmy", count, 0, kind="watcher")]


def transfer_options():
    return [
        TransferOption(
            "notify_watchers",
            "Powiadom obserwujących",
            "Obserwujący przekazanych firm dostają wiadomość o nowym opiekunie",
            default=True,
        )
    ]


def transfer_prepare(session, request):
    """Before the companies move, the user's watcher rows go with them to the recipient."""
    notes.calls["transfer_prepare"].append((sorted(request.object_types), dict(request.options or {})))
    if "company" not in request.object_types:
        return []
    moving = records_to_move(record_types().get("company"), request.from_user_id, request.include_closed, request.share)
    rows = [
        {
            "object_id": company_id,
            "object_name": name,
            "old_value": request.from_user_id,
            "new_value": request.to_user_id,
            "moved_at": utcnow(),
            "outcome": None,
        }
        for company_id, name in session.execute(select(Company.id, Company.name).where(moving).order_by(Company.id))
    ]
    notes.watchers.setdefault(request.transfer_id, []).extend(rows)
    return [TransferResult("company", len(rows), kind="watcher")]


def moved_items(transfer_id):
    """The watcher rows of the transfer, as a SELECT of MOVED_ITEM_COLUMNS (this test
    plugin keeps its rows in memory, not in a table of its own: one literal row each)."""
    rows = notes.watchers.get(transfer_id)
    if not rows:
        return None
    one_per_row = [
        select(
            cast(literal("company"), String).label("object_type"),
            cast(literal(row["object_id"]), Integer).label("object_id"),
            cast(literal(row["object_name"]), String).label("object_name"),
            cast(literal("watcher"), String).label("field"),
            cast(literal(row["old_value"]), Integer).label("old_value"),
            cast(literal(row["new_value"]), Integer).label("new_value"),
            literal(row["moved_at"], UTCDateTime()).label("moved_at"),
            cast(literal(row["outcome"]), String).label("outcome"),
        )
        for row in rows
    ]
    return select(union_all(*one_per_row).subquery("partner_watchers"))


def undo_transfer(session, request):
    """A watcher row goes back unless its company is gone."""
    notes.calls["undo_transfer"].append((request.transfer_id, request.from_user_id, dict(current_context())))
    for row in notes.watchers.get(request.transfer_id, []):
        if row["outcome"] is None:
            row["outcome"] = "restored" if session.get(Company, row["object_id"]) is not None else "deleted"


def plugin_resumed(session, gap):
    """Counts the companies created while the plugin was off (set-based); when told to
    fail, it writes something first, which must not stay."""
    notes.calls["plugin_resumed"].append((gap.plugin, gap.off_from, gap.off_until, current_actor().job))
    if "plugin_resumed" in notes.refuse:
        session.add(Company(name="Half-caught-up"))
        session.flush()
        raise RuntimeError("the partner's index is unreachable")
    created_meanwhile = session.scalar(
        select(func.count()).select_from(Company).where(Company.created_at.between(gap.off_from, gap.off_until))
    )
    return [
        PluralMessage(
            "%(num)d company created meanwhile is now watched",
            "%(num)d companies created meanwhile are now watched",
            created_meanwhile,
        )
    ]


def bystander_resumed(session, gap):
    notes.calls["bystander_resumed"].append(gap.plugin)
    return ["the bystander was asked"]


partner = make_plugin(
    PARTNER,
    opiekun_admin_views=admin_views,
    opiekun_admin_record_sections=admin_record_sections,
    opiekun_admin_user_sections=admin_user_sections,
    opiekun_admin_home_panels=admin_home_panels,
    opiekun_admin_form=admin_form,
    opiekun_deal_closed=deal_closed,
    opiekun_user_departed=user_departed,
    opiekun_user_items=user_items,
    opiekun_transfer_options=transfer_options,
    opiekun_transfer_prepare=transfer_prepare,
    opiekun_moved_items=moved_items,
    opiekun_undo_transfer=undo_transfer,
    opiekun_plugin_resumed=plugin_resumed,
)
#: on all the time: never off, so never asked to catch up
bystander = make_plugin(BYSTANDER, opiekun_plugin_resumed=bystander_resumed)


@pytest.fixture(scope="module")
def app(tmp_path_factory, fresh_database):
    """Every installed plugin and the two above (overrides the suite's shared app, so the
    suite's fixtures — api, admin, seller… — and its emptying of tables use this one)."""
    application = build_app(
        tmp_path_factory.mktemp("hook-contract"), fresh_database.url(), extra_plugins=[partner, bystander]
    )
    yield application
    close_app(application)


@pytest.fixture(autouse=True)
def fresh_notes():
    notes.clear()


class FormReader(HTMLParser):
    """The values a browser would post from a page's form (inputs, selects, text areas)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("checkbox", "radio", "submit"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "input" and name and "checked" in attrs:
            self.values[name] = attrs.get("value") or "y"
        elif tag == "select" and name:
            self.select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data


def form_values(page: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(page)
    reader.values.pop("csrf_token", None)
    return reader.values


def raw(browser, url: str) -> str:
    """The page's HTML as sent (not unescaped: markup stays markup)."""
    response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --- admin surfaces -----------------------------------------------------------------------


def test_opiekun_admin_views_adds_a_page_to_the_panel_and_its_menu(app, api, seller):
    assert any(built is app.extensions["opiekun.admin"] for built in admins_built), "called with the app's panel"
    browser = logged_in(app, seller)
    assert 'href="/admin/partner_report/"' in raw(browser, "/admin/") and "Raport partnera" in browser.text("/admin/")
    assert '<p id="partner-report">Raport partnera dla Stefan Sprzedawca</p>' in raw(browser, "/admin/partner_report/")
    guest = app.test_client().get("/admin/partner_report/")
    assert guest.status_code == 302 and "/login" in guest.headers["Location"], "the view's own rule (LoginRequired)"


def test_opiekun_admin_record_sections_shows_each_section_on_the_records_page(app, api, admin):
    company = created(api.post("/companies", admin, json={"name": "Agro <Tech> & Syn"}))
    person = created(api.post("/persons", admin, json={"first_name": "Jan", "last_name": "Kowalski"}))
    browser = logged_in(app, admin)
    page = raw(browser, f"/admin/company/details/?id={company['id']}")
    assert "Partner: karta firmy" in page
    assert '<p class="partner-card">Karta firmy Agro &lt;Tech&gt; &amp; Syn</p>' in page, "markup kept, name escaped"
    assert "partner-card" not in raw(browser, f"/admin/person/details/?id={person['id']}")
    assert notes.calls["admin_record_sections"] == [("company", company["id"]), ("person", person["id"])]


def test_opiekun_admin_user_sections_shows_on_a_users_page_and_on_my_account(app, api, admin, seller):
    manager = logged_in(app, admin)
    page = raw(manager, f"/admin/users/details/?id={seller['id']}")
    assert "Partner: profil" in page and '<p class="partner-profile">Profil: Stefan Sprzedawca</p>' in page
    own = raw(logged_in(app, seller), "/admin/account/")
    assert "Partner: profil" in own and '<p class="partner-profile">Profil: Stefan Sprzedawca</p>' in own
    assert notes.calls["admin_user_sections"] == [(seller["id"], admin["id"]), (seller["id"], seller["id"])], (
        "the user shown, on the manager's view and on one's own page (user is current_user)"
    )


def test_opiekun_admin_home_panels_adds_panels_to_the_start_page_team_ones_for_the_team(app, api, admin, seller):
    own = raw(logged_in(app, seller), "/admin/")
    mine = own[own.index('id="panel-partner-mine"') :]
    assert "Partner: moje zgłoszenia" in mine and "Zgłoszenia do odpisania" in mine
    assert re.search(
        r'<div class="h3 mb-0 text-warning">\s*<a class="text-reset" href="/admin/partner_report/">3</a>', mine
    )
    assert "panel-partner-team" not in own and "Partner: zgłoszenia zespołu" not in own, (
        "no dashboard.team: no team panel"
    )
    team = raw(logged_in(app, admin), "/admin/")
    assert 'id="panel-partner-mine"' in team
    assert 'id="panel-partner-team"' in team[team.index('id="home-team"') :], (
        "under Team, for holders of dashboard.team"
    )
    assert notes.calls["admin_home_panels"] == [seller["id"], admin["id"]], "asked for the logged-in user, each visit"


def test_opiekun_admin_form_removes_fields_adds_validators_and_locks_fields(app, api, admin):
    browser = logged_in(app, admin)
    new_form = raw(browser, "/admin/company/new/")
    assert 'name="name"' in new_form and 'name="website"' not in new_form, "the field the plugin removed is gone"
    assert notes.calls["admin_form"] == [("company", None)], "record None on the create form"

    refused = browser.submit("/admin/company/new/", {"name": "Zastrzeżona sp. z o.o.", "owner": str(admin["id"])})
    assert refused.status_code == 200, "the form is shown again"
    assert "Ta nazwa jest zastrzeżona przez partnera." in refused.get_data(as_text=True), "the message under the field"
    assert created(api.get("/companies?q=Zastrzeżona", admin))["total"] == 0, "nothing saved"

    saved = browser.submit("/admin/company/new/", {"name": "Dozwolona", "owner": str(admin["id"])})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    [company] = created(api.get("/companies?q=Dozwolona", admin))["items"]

    notes.clear()
    edit_form = raw(browser, f"/admin/company/edit/?id={company['id']}")
    assert re.search(r'<input[^>]*name="tax_id"[^>]*readonly|<input[^>]*readonly[^>]*name="tax_id"', edit_form)
    assert 'name="website"' not in edit_form
    assert notes.calls["admin_form"] == [("company", company["id"])], "the record being edited"


# --- deals and users ----------------------------------------------------------------------


def new_deal(api, user, pipeline, name="Pompy"):
    return created(api.post("/deals", user, json={"name": name, "pipeline_id": pipeline["id"]}))


def test_opiekun_deal_closed_once_per_win_or_loss_through_the_api(app, api, seller, pipeline):
    won, lost = new_deal(api, seller, pipeline), new_deal(api, seller, pipeline, "Sprężarki")
    assert created(api.post(f"/deals/{won['id']}/win", seller))["status"] == "won"
    assert created(api.post(f"/deals/{lost['id']}/lose", seller, json={"reason": "za drogo"}))["status"] == "lost"
    assert notes.calls["deal_closed"] == [
        (won["id"], "won", "won", None, seller["id"]),
        (lost["id"], "lost", "lost", "za drogo", seller["id"]),
    ], "after the status is written, with outcome, reason and the acting user"
    assert api.post(f"/deals/{won['id']}/win", seller).status_code == 409
    assert len(notes.calls["deal_closed"]) == 2, "a deal already closed is not closed again"


def test_opiekun_deal_closed_once_when_the_admins_form_or_button_wins_a_deal(app, api, seller, pipeline):
    by_form, by_button = new_deal(api, seller, pipeline), new_deal(api, seller, pipeline, "Sprężarki")
    browser = logged_in(app, seller)
    form_url = f"/admin/deal/edit/?id={by_form['id']}"
    values = form_values(raw(browser, form_url))
    assert values["status"] == "open", values
    saved = browser.submit(form_url, {**values, "status": "won"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert created(api.get(f"/deals/{by_form['id']}", seller))["status"] == "won"
    token = browser.csrf_token("/admin/deal/")
    clicked = browser.http.post(
        "/admin/deal/close/", data={"csrf_token": token, "id": str(by_button["id"]), "outcome": "won"}
    )
    assert clicked.status_code == 302
    assert notes.calls["deal_closed"] == [
        (by_form["id"], "won", "won", None, seller["id"]),
        (by_button["id"], "won", "won", None, seller["id"]),
    ], "exactly once each, as through the API"


def test_opiekun_deal_closed_raising_refuses_the_win_and_changes_nothing(app, api, seller, pipeline):
    deal = new_deal(api, seller, pipeline)
    notes.refuse.add("deal_closed")
    refused = api.post(f"/deals/{deal['id']}/win", seller)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["message"] == "the partner's system refuses to close this deal"
    assert created(api.get(f"/deals/{deal['id']}", seller))["status"] == "open", "rolled back with the hook"
    assert len(notes.calls["deal_closed"]) == 1


def test_opiekun_user_departed_when_the_api_or_the_panel_marks_a_user_departed(app, api, admin, seller, other_seller):
    depart(api, admin, seller)
    depart(api, admin, seller)
    assert notes.calls["user_departed"] == [(seller["id"], "departed", admin["id"])], "once, status already written"
    browser = logged_in(app, admin)
    browser.run_action("/admin/users/", "mark_departed", [other_seller["id"]])
    assert notes.calls["user_departed"][1:] == [(other_seller["id"], "departed", admin["id"])]
    assert created(api.get(f"/users/{other_seller['id']}", admin))["status"] == "departed"


def test_opiekun_user_departed_raising_keeps_the_user_active(app, api, admin, seller):
    notes.refuse.add("user_departed")
    refused = api.patch(f"/users/{seller['id']}", admin, json={"status": "departed"})
    assert refused.status_code == 409, refused.get_json()
    assert created(api.get(f"/users/{seller['id']}", admin))["status"] == "active", "same transaction: rolled back"
    assert api.token_for(seller), "and they can still log in"


# --- offboarding ----------------------------------------------------------------------------


def seller_with_companies(api, admin, seller, *names: str) -> list[dict]:
    companies = [created(api.post("/companies", seller, json={"name": name})) for name in names]
    depart(api, admin, seller)
    return companies


def test_opiekun_user_items_counts_show_in_the_offboarding_preview(app, api, admin, seller):
    seller_with_companies(api, admin, seller, "Agro-Tech", "Budimex")
    preview = created(api.get(f"/offboarding/{seller['id']}/preview", admin))
    watched = [item for item in preview["items"] if item["kind"] == "watcher"]
    assert watched == [
        {"object_type": "company", "label": "Obserwowane firmy", "kind": "watcher", "open": 2, "closed": 0, "total": 2}
    ]
    owned = [item for item in preview["items"] if item["object_type"] == "company" and item["kind"] == "owner"]
    assert preview["total"] == sum(item["total"] for item in preview["items"]) and owned[0]["total"] == 2
    created(api.get(f"/offboarding/{seller['id']}/preview?include_closed=false", admin))
    assert notes.calls["user_items"] == [(seller["id"], True), (seller["id"], False)]
    page = logged_in(app, admin).text(f"/admin/offboarding/user/{seller['id']}/")
    assert "Obserwowane firmy" in page, "the panel's preview shows it too"


def test_opiekun_transfer_options_are_listed_offered_and_handed_to_the_transfer(app, api, admin, seller, other_seller):
    seller_with_companies(api, admin, seller, "Agro-Tech")
    listed = created(api.get("/offboarding/options", admin))["items"]
    assert {
        "name": "notify_watchers",
        "label": "Powiadom obserwujących",
        "description": "Obserwujący przekazanych firm dostają wiadomość o nowym opiekunie",
        "default": True,
    } in listed
    assert "Powiadom obserwujących" in logged_in(app, admin).text(f"/admin/offboarding/user/{seller['id']}/")

    state = transfer(
        api,
        admin,
        {"from_user_id": seller["id"], "to_user_id": other_seller["id"], "options": {"notify_watchers": False}},
    )
    assert state["status"] == "done" and state["options"]["notify_watchers"] is False
    company_steps = [options for types, options in notes.calls["transfer_prepare"] if types == ["company"]]
    assert [options["notify_watchers"] for options in company_steps] == [False], "the value asked for"
    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    assert undone["transfer"]["status"] == "undone"

    notes.calls["transfer_prepare"].clear()
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    assert state["options"]["notify_watchers"] is True
    assert [options["notify_watchers"] for types, options in notes.calls["transfer_prepare"]] == [True], "its default"


def test_opiekun_moved_items_and_opiekun_undo_transfer_list_and_put_back_a_plugins_own_rows(
    app, api, admin, seller, other_seller
):
    kept, gone = seller_with_companies(api, admin, seller, "Agro-Tech", "Budimex")
    state = transfer(api, admin, {"from_user_id": seller["id"], "to_user_id": other_seller["id"]})
    assert state["status"] == "done"
    assert state["counts"]["company"] == {"owner": 2, "watcher": 2}, "the plugin's moves are counted"

    items = created(api.get(f"{TRANSFERS}/{state['id']}/items?per_page=100", admin))["items"]
    watchers = [
        (item["object_id"], item["object_name"], item["old_value"], item["new_value"], item["outcome"])
        for item in items
        if item["field"] == "watcher"
    ]
    assert watchers == [
        (kept["id"], "Agro-Tech", seller["id"], other_seller["id"], None),
        (gone["id"], "Budimex", seller["id"], other_seller["id"], None),
    ], "listed with the record fields the transfer moved"

    assert api.delete(f"/companies/{gone['id']}", admin).status_code == 204
    assert notes.calls["undo_transfer"] == []
    undone = created(api.post(f"{TRANSFERS}/{state['id']}/undo", admin))
    [(transfer_id, from_user_id, context)] = notes.calls["undo_transfer"]
    assert (transfer_id, from_user_id) == (state["id"], seller["id"]), "once, with the transfer and its former user"
    assert context.get("offboarding_undo_of") == state["id"], "with the undo's change context"
    assert ("company", gone["id"], "watcher", "deleted") in {
        (item["object_type"], item["object_id"], item["field"], item["outcome"]) for item in undone["kept_items"]
    }, "what undo kept of the plugin's rows, with the reason"
    assert undone["restored"] == 2 and undone["kept"] == 2, "owner_id and watcher of Agro-Tech back; Budimex's kept"
    outcomes = created(api.get(f"{TRANSFERS}/{state['id']}/items?per_page=100", admin))["items"]
    assert [(item["object_id"], item["outcome"]) for item in outcomes if item["field"] == "watcher"] == [
        (kept["id"], "restored"),
        (gone["id"], "deleted"),
    ]
    assert created(api.get(f"/companies/{kept['id']}", admin))["owner_id"] == seller["id"]
    assert api.post(f"{TRANSFERS}/{state['id']}/undo", admin).status_code == 409
    assert len(notes.calls["undo_transfer"]) == 1, "once per undo"


# --- catching up --------------------------------------------------------------------------


def test_opiekun_plugin_resumed_is_asked_by_init_after_a_time_off_once_for_that_plugin_alone(app, tmp_path, api, admin):
    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["init"])
    assert first.exit_code == 0, first.output
    assert notes.calls["plugin_resumed"] == [], "never off: nothing to catch up with"

    without = build_app(
        tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], extra_plugins=[partner, bystander], plugins_disabled=(PARTNER,)
    )
    assert PARTNER not in without.extensions["opiekun.plugins"].names
    made_meanwhile = created(ApiClient(without).post("/companies", admin, json={"name": "Nowa w tym czasie"}))
    close_app(without)

    notes.refuse.add("plugin_resumed")
    failed = runner.invoke(cli, ["init"])
    assert failed.exit_code != 0
    assert f"plugin {PARTNER!r} failed to catch up" in failed.output and "unreachable" in failed.output
    assert created(api.get("/companies?q=Half-caught-up", admin))["total"] == 0, "its catching up rolled back"
    notes.refuse.clear()

    back = runner.invoke(cli, ["init"])
    assert back.exit_code == 0, back.output
    assert len(notes.calls["plugin_resumed"]) == 2, "the gap was tried again"
    plugin, off_from, off_until, job = notes.calls["plugin_resumed"][-1]
    assert plugin == PARTNER and job == "opiekun init", "its changes are the job opiekun init's"
    with app.app_context():
        made_at = db.session.get(Company, made_meanwhile["id"]).created_at
    assert off_from <= made_at <= off_until <= utcnow(), "the time off, in UTC"
    assert notes.calls["bystander_resumed"] == [], "called for the plugin back from a time off alone"
    assert f"plugin {PARTNER} is back (off " in back.output
    assert "    1 company created meanwhile is now watched" in back.output, "init prints what the plugin returned"

    again = runner.invoke(cli, ["init"])
    assert again.exit_code == 0 and "is back" not in again.output
    assert len(notes.calls["plugin_resumed"]) == 2, "once per time off"
    plugins_page = logged_in(app, admin).text("/admin/plugins/")
    row = plugins_page[plugins_page.index(f'id="plugin-{PARTNER}"') :].split("</tr>")[0]
    assert "1 company created meanwhile is now watched" in row, "the plugins page shows it too"
