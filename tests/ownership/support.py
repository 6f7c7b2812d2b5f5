"""Helpers of the ownership tests."""

from __future__ import annotations

import datetime as dt

from opiekun import local_time
from opiekun.testing.clients import CSRF_FIELD

#: The name of the "Change owner…" bulk action on record lists.
ACTION = "ownership_change_owner"


def day(offset: int = 0) -> str:
    """The company's today (as the plugin counts days) shifted by ``offset`` days, as ``YYYY-MM-DD``."""
    return (local_time.today() + dt.timedelta(days=offset)).isoformat()


def submit_form(browser, url: str, data: dict):
    """Fill in and send the form on ``url`` (with its CSRF token)."""
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    return browser.http.post(url, data={"csrf_token": token, **data}, follow_redirects=True)


def polish_day(offset: int = 0) -> str:
    """The same day as the panel shows it in Polish (``6.12.2026``)."""
    shown = local_time.today() + dt.timedelta(days=offset)
    return f"{shown.day}.{shown.month:02d}.{shown.year}"
