"""Browser tests: a real Chromium (Debian's ``chromium`` package, driven by Playwright)
against a live server of the suite's app, as an admin works in the panel.

Every test here is marked ``browser``; each saves a screenshot of its last page to
``test-results/screenshots/<test name>.png`` (kept by the run, not committed). Without a
``chromium`` on the PATH the tests are skipped, unless ``OPIEKUN_REQUIRE_BROWSER=1`` (set
by scripts/test.sh, which installs it) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from opiekun.testing.apps import PASSWORD
from tests.support.live_server import served

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
#: Chromium as root in a container, with no network beyond localhost
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("OPIEKUN_REQUIRE_BROWSER") == "1":
            pytest.fail("no chromium on the PATH (apt-get install chromium)")
        pytest.skip("no chromium on the PATH (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "pl-PL", "viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The suite's app served over HTTP on a free local port, in a thread."""
    with served(app) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """pytest-playwright resolves ``page.goto("/admin/")`` against this."""
    return live_server


@pytest.fixture
def page(page, request):
    """Playwright's page; its last state is saved as a screenshot when the test ends."""
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)  # as long as the page's own waits: a loaded machine is slower
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("/", "_")  # a parameter may hold a slash
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page, user: dict, password: str = PASSWORD) -> None:
    """Through the login form, as a person does; lands on the panel's home page."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(user["email"])
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj").click()
    page.wait_for_url("**/admin/")


def open_user_menu(page) -> None:
    """The menu under the user's name (once the page's scripts ran: before, it does not open)."""
    page.wait_for_load_state("load")
    page.locator("#user-menu-toggle").click()
    expect(page.locator("#user-menu .dropdown-menu")).to_be_visible()


def log_out(page) -> None:
    """Through the user menu, as a person does; lands on the login page."""
    open_user_menu(page)
    page.get_by_role("button", name="Wyloguj").click()
    page.wait_for_url("**/login**")


@pytest.fixture
def admin_page(page, admin):
    """A page with the admin logged in."""
    log_in(page, admin)
    return page
