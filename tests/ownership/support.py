"""Helpers of the ownership tests."""

from __future__ import annotations

import datetime as dt

from opiekun.models import utcnow
from tests.support.admin_browser import CSRF_FIELD

#: The name of the "Change owner…" bulk action on record lists.
ACTION = "ownership_change_owner"


def day(offset: int = 0) -> str:
    """Today (UTC, as the plugin counts days) shifted by ``offset`` days, as ``YYYY-MM-DD``."""
    return (utcnow().date() + dt.timedelta(days=offset)).isoformat()


def submit_form(browser, url: str, data: dict):
    """Fill in and send the form on ``url`` (with its CSRF token)."""
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    token = CSRF_FIELD.search(page.get_data(as_text=True)).group(1)
    return browser.http.post(url, data={"csrf_token": token, **data}, follow_redirects=True)
