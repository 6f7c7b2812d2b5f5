"""An admin sees in the panel that plugins were off for a while (Administracja → Pluginy):
since when to when, and what catching up with the records changed meanwhile did; the
history says which of its entries are missing."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from opiekun.extensions import db
from opiekun.models import PluginActivity, PluginGap, utcnow
from opiekun.plugin_activity import reconcile_resumed_plugins
from tests.browser.conftest import SCREENSHOTS


def test_an_admin_sees_when_plugins_were_off_and_what_catching_up_changed(admin_page, app, api, admin, seller):
    kept = api.post("/companies", seller, json={"name": "Agro-Tech"}).get_json()
    with app.app_context():
        # ownership and audit were off for two days and came back: noted at the start, as
        # every start notes it; a period of a company deleted meanwhile is left over
        back = utcnow()  # after the company was created: its history has the gap
        for name in ("ownership", "audit"):
            db.session.merge(PluginActivity(plugin=name, enabled=True, since=back))
            db.session.add(PluginGap(plugin=name, off_from=back - dt.timedelta(days=2), off_until=back))
        db.session.execute(
            db.text(
                "INSERT INTO ownership_assignments (object_type, object_id, user_id, kind, role, valid_from, access, "
                "created_at) VALUES ('company', 999999, :user, 'primary', 'owner', '2026-01-01', 'write', :at)"
            ),
            {"user": seller["id"], "at": utcnow()},
        )
        db.session.commit()
        caught_up = reconcile_resumed_plugins()  # what `opiekun init` runs
        assert sorted(gap.plugin for gap in caught_up) == ["audit", "ownership"]

    page = admin_page
    page.get_by_role("link", name="Administracja", exact=True).click()
    page.get_by_role("link", name="Pluginy").click()
    ownership = page.locator("#plugin-ownership .plugin-gap")
    expect(ownership).to_contain_text("Wyłączony od ")
    expect(ownership).to_contain_text("Dane uzgodnione ze zmianami rekordów z tego czasu")
    expect(ownership).to_contain_text("Usunięto 1 okres opiekuna rekordów usuniętych w tym czasie")
    expect(page.locator("#plugin-audit .plugin-gap")).to_contain_text("zmian z czasu wyłączenia historii nie zapisano")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "plugins_page_after_a_time_off.png"), full_page=True)

    page.get_by_role("link", name="Administracja", exact=True).click()
    page.get_by_role("link", name="Historia zmian").click()
    expect(page.locator(".history-gap")).to_contain_text("historia nie była zapisywana: historia zmian była wyłączona")
    page.goto(f"/admin/company/details/?id={kept['id']}")
    expect(page.locator(".history-gap")).to_contain_text("historia nie była zapisywana")
