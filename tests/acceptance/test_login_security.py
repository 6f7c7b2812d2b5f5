"""Logging in and staying logged in, as an attacker would try them: guessing passwords
(throttled per account and per address, unknown e-mails as slow as known ones), open
redirects after login, copied session cookies, idle sessions, logging out or switching the
language from another site, and the security headers every response carries."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pytest
from sqlalchemy import select, update

from opiekun import local_time
from opiekun.extensions import db
from opiekun.models import Company, User
from opiekun.testing.apps import PASSWORD, TEST_REDIS_URL, build_app, empty_tables
from opiekun.testing.clients import AdminBrowser, ApiClient, logged_in

#: The throttle tests' app allows this many failed logins a minute…
PER_ACCOUNT = 3
#: …per account, and this many per client address.
PER_ADDRESS = 6
WRONG = "wrong-password-1"
#: ``Retry-After`` within the limits' minute (whole seconds, rounded up)
WITHIN_A_MINUTE = range(1, 62)


def build_secure_or_strict_app(tmp_path_factory, fresh_database, **settings):
    app = build_app(tmp_path_factory.mktemp("instance"), fresh_database.url(), **settings)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def strict_app(tmp_path_factory, fresh_database):
    """An app with the real limiter and small limits, behind one trusted proxy (so a test
    can be several clients through ``X-Forwarded-For``)."""
    yield from build_secure_or_strict_app(
        tmp_path_factory,
        fresh_database,
        trusted_proxies=1,
        login_limit_per_account=f"{PER_ACCOUNT} per minute",
        login_limit_per_address=f"{PER_ADDRESS} per minute",
    )


@pytest.fixture
def strict(strict_app) -> ApiClient:
    yield ApiClient(strict_app)
    strict_app.extensions["opiekun.login_limiter"].reset()
    empty_tables(strict_app)


def from_address(address: str) -> dict:
    return {"X-Forwarded-For": address}


def api_login(client: ApiClient, email: str, password: str, address: str = "192.0.2.1"):
    return client.http.post(
        "/api/v1/auth/token", json={"email": email, "password": password}, headers=from_address(address)
    )


def admin_login(app, email: str, password: str, address: str = "192.0.2.1"):
    return AdminBrowser(app).submit("/login", {"email": email, "password": password}, headers=from_address(address))


# --- throttling failed logins ---------------------------------------------------------------


def test_failed_logins_on_one_account_end_in_429_with_retry_after_even_for_the_right_password(strict, strict_app):
    seller = strict.create_user("seller@firma.example")
    for _ in range(PER_ACCOUNT):
        assert api_login(strict, seller["email"], WRONG).status_code == 401

    for password in (WRONG, PASSWORD):
        refused = api_login(strict, " Seller@Firma.example ", password)  # the same account, however it is typed
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) in WITHIN_A_MINUTE
        assert refused.get_json()["error"]["code"] == "too_many_requests"
        assert "try again in" in refused.get_json()["error"]["message"]

    page = admin_login(strict_app, seller["email"], PASSWORD)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) in WITHIN_A_MINUTE
    assert "zbyt wiele nieudanych prób logowania" in page.get_data(as_text=True)
    assert 'name="password"' in page.get_data(as_text=True), "the login form is still there"


def test_failed_logins_through_the_login_page_count_too(strict, strict_app):
    seller = strict.create_user("seller@firma.example")
    for _ in range(PER_ACCOUNT):
        assert admin_login(strict_app, seller["email"], WRONG).status_code == 200
    assert admin_login(strict_app, seller["email"], PASSWORD).status_code == 429
    assert api_login(strict, seller["email"], PASSWORD).status_code == 429


def test_other_accounts_from_the_same_address_still_log_in(strict, strict_app):
    locked = strict.create_user("locked@firma.example")
    colleague = strict.create_user("colleague@firma.example")
    for _ in range(PER_ACCOUNT):
        api_login(strict, locked["email"], WRONG)
    assert api_login(strict, locked["email"], PASSWORD).status_code == 429

    assert api_login(strict, colleague["email"], PASSWORD).status_code == 200
    assert admin_login(strict_app, colleague["email"], PASSWORD).status_code == 302


def test_failed_logins_from_one_address_are_throttled_across_accounts(strict):
    seller = strict.create_user("seller@firma.example")
    for n in range(PER_ADDRESS):
        assert api_login(strict, f"guess{n}@firma.example", WRONG, address="198.51.100.7").status_code == 401
    assert api_login(strict, seller["email"], PASSWORD, address="198.51.100.7").status_code == 429
    assert api_login(strict, seller["email"], PASSWORD, address="198.51.100.8").status_code == 200


def test_many_successful_logins_from_one_address_are_not_throttled(strict, strict_app):
    """An office behind one address: everyone logs in, several times a day."""
    people = [strict.create_user(f"person{n}@firma.example") for n in range(PER_ADDRESS * 2)]
    for person in people:
        assert api_login(strict, person["email"], PASSWORD).status_code == 200
        assert admin_login(strict_app, person["email"], PASSWORD).status_code == 302
    for _ in range(PER_ACCOUNT * 3):
        assert api_login(strict, people[0]["email"], PASSWORD).status_code == 200


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs OPIEKUN_TEST_REDIS_URL")
def test_with_redis_every_app_process_shares_the_counts(tmp_path_factory, fresh_database):
    """Production: several app machines, one Redis. Failures on one count on the others."""
    url = fresh_database.url()
    limits = {
        "login_limit_per_account": f"{PER_ACCOUNT} per minute",
        "login_limit_per_address": "1000 per minute",
        "redis_url": TEST_REDIS_URL,
    }
    first = build_app(tmp_path_factory.mktemp("instance"), url, **limits)
    second = build_app(tmp_path_factory.mktemp("instance"), url, **limits)
    email = f"{uuid.uuid4().hex[:12]}@firma.example"  # the Redis is shared: a name no other run uses
    ApiClient(first).create_user(email)
    for _ in range(PER_ACCOUNT):
        assert api_login(ApiClient(first), email, WRONG).status_code == 401
    assert api_login(ApiClient(second), email, PASSWORD).status_code == 429
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def fastest_refusal(api, email: str, tries: int = 5) -> float:
    """The shortest time, in seconds, a wrong password for ``email`` took to be refused."""
    fastest = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        response = api.http.post("/api/v1/auth/token", json={"email": email, "password": WRONG})
        fastest = min(fastest, time.perf_counter() - started)
        assert response.status_code == 401
    return fastest


@pytest.fixture(scope="module")
def scrypt_app(tmp_path_factory, fresh_database):
    """An app hashing passwords as deployments do (scrypt), not with the suite's cheap hash."""
    yield from build_secure_or_strict_app(tmp_path_factory, fresh_database, password_hash_method="scrypt")


def test_passwords_are_stored_as_scrypt_hashes_by_default(scrypt_app):
    client = ApiClient(scrypt_app)
    client.create_user(f"hash-{uuid.uuid4().hex[:8]}@firma.example")
    with scrypt_app.app_context():
        stored = db.session.scalars(select(User.password_hash)).all()
    empty_tables(scrypt_app)
    assert stored and all(value.startswith("scrypt:") for value in stored)


def test_an_unknown_email_is_refused_as_slowly_as_a_known_one(scrypt_app):
    """Both check a password hash (an unknown e-mail against a dummy one), so the time of
    the answer does not tell which e-mails have accounts."""
    client = ApiClient(scrypt_app)
    seller = client.create_user(f"timing-{uuid.uuid4().hex[:8]}@firma.example")
    known = fastest_refusal(client, seller["email"])
    unknown = fastest_refusal(client, "nobody@firma.example")
    empty_tables(scrypt_app)
    assert unknown > known * 0.5, (unknown, known)


# --- redirects ------------------------------------------------------------------------------


OTHER_SITES = [
    "/\t/evil.example/phish",
    "/\n/evil.example",
    "/\\/evil.example",
    "/\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/%5C/evil.example",
]


def test_logging_in_with_next_leading_off_site_lands_on_the_panel(app, seller):
    browser = AdminBrowser(app)
    token = browser.csrf_token("/login")
    response = browser.http.post(
        "/login?next=/%09/evil.example/phish",
        data={"csrf_token": token, "email": seller["email"], "password": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


@pytest.mark.parametrize("target", OTHER_SITES)
def test_next_never_leads_to_another_site(app, seller, target):
    browser = AdminBrowser(app)
    token = browser.csrf_token("/login")
    response = browser.http.post(
        "/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": seller["email"], "password": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_a_nul_in_next_is_refused_before_the_login_is_tried(app, seller):
    """A NUL byte in the query string is bad input (400), caught before the form is read:
    nobody is logged in and nobody is sent anywhere."""
    browser = AdminBrowser(app)
    token = browser.csrf_token("/login")
    response = browser.http.post(
        "/login",
        query_string={"next": "/\x00/x"},
        data={"csrf_token": token, "email": seller["email"], "password": PASSWORD},
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert browser.http.get("/admin/").status_code == 302


def test_next_within_the_panel_is_followed(app, seller):
    browser = AdminBrowser(app)
    token = browser.csrf_token("/login")
    response = browser.http.post(
        "/login",
        query_string={"next": "/admin/company/?search=Agro%20Tech"},
        data={"csrf_token": token, "email": seller["email"], "password": PASSWORD},
    )
    assert response.headers["Location"] == "/admin/company/?search=Agro%20Tech"


def test_the_bulk_action_page_never_returns_to_another_site(app, seller, other_seller):
    with app.app_context():
        firm = Company(name="Stal-Bud", owner_id=seller["id"])
        db.session.add(firm)
        db.session.commit()
        firm_id = firm.id
    browser = logged_in(app, seller)
    form_url = f"/admin/company/bulk/ownership_change_owner/?ids={firm_id}&url=/%09/evil.example/phish"
    cancel = re.search(r'<a href="([^"]*)" class="btn btn-danger"', browser.text(form_url)).group(1)
    assert cancel == "/admin/company/", "the cancel link leads back to the list, not elsewhere"
    done = browser.submit(
        form_url,
        {
            "user": str(other_seller["id"]),
            "kind": "primary",
            "role": "sales",
            "valid_from": local_time.today().isoformat(),
            "on_overlap": "replace",
            "access": "write",
        },
    )
    assert done.status_code == 302 and done.headers["Location"] == "/admin/company/"


def test_the_language_switch_goes_back_only_to_pages_of_this_site(app, seller):
    browser = logged_in(app, seller)
    token = browser.csrf_token("/admin/")
    back = browser.http.post("/language/en", data={"csrf_token": token, "next": "/admin/company/"})
    assert back.headers["Location"] == "/admin/company/"
    for target in ("//evil.example", "/\t/evil.example", "https://evil.example/"):
        refused = browser.http.post("/language/pl", data={"csrf_token": token, "next": target})
        assert refused.headers["Location"] == "/admin/", target
    from_elsewhere = browser.http.post(
        "/language/pl", data={"csrf_token": token}, headers={"Referer": "http://evil.example/admin/"}
    )
    assert from_elsewhere.headers["Location"] == "/admin/"


# --- the session ----------------------------------------------------------------------------


def session_cookie(response) -> str:
    """The ``Set-Cookie`` header of the session cookie."""
    return next(header for header in response.headers.getlist("Set-Cookie") if header.startswith("session="))


def test_the_session_cookie_is_http_only_same_site_lax_and_expires_with_the_idle_timeout(app, seller):
    response = AdminBrowser(app).log_in(seller)
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "Secure" not in cookie, "the embedded http demo keeps working"


@pytest.fixture(scope="module")
def secure_app(tmp_path_factory, fresh_database):
    yield from build_secure_or_strict_app(tmp_path_factory, fresh_database, secure_cookies=True)


def test_with_secure_cookies_the_cookie_is_https_only_and_browsers_are_told_to_stay_on_https(secure_app):
    response = secure_app.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in session_cookie(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_copied_session_cookie_stops_working_after_logout(app, seller):
    browser = logged_in(app, seller)
    thief = app.test_client()
    thief.set_cookie("session", browser.http.get_cookie("session").value)
    assert thief.get("/admin/").status_code == 200, "a copied cookie is a session while it lasts"

    assert browser.log_out().status_code == 302
    assert browser.get("/admin/").status_code == 302
    assert thief.get("/admin/").status_code == 302, "logging out ended the session on the server"


def test_a_session_left_idle_longer_than_the_timeout_ends(app, seller):
    from opiekun.models import LoginSession

    idle_limit = app.permanent_session_lifetime
    assert idle_limit == dt.timedelta(hours=8), "the default idle timeout"
    browser = logged_in(app, seller)

    def last_used(ago: dt.timedelta) -> None:
        with app.app_context():
            db.session.execute(update(LoginSession).values(last_seen_at=dt.datetime.now(dt.UTC) - ago))
            db.session.commit()

    last_used(idle_limit - dt.timedelta(minutes=5))
    assert browser.get("/admin/").status_code == 200, "used within the timeout: still logged in"
    last_used(idle_limit + dt.timedelta(minutes=1))
    assert browser.get("/admin/").status_code == 302


def test_every_request_moves_the_idle_clock_on(app, seller):
    from opiekun.models import LoginSession

    browser = logged_in(app, seller)
    with app.app_context():
        db.session.execute(update(LoginSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=7)))
        db.session.commit()
    assert browser.get("/admin/").status_code == 200
    with app.app_context():
        seen = db.session.scalar(db.select(LoginSession.last_seen_at))
    assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(minutes=1)


# --- logging out and switching the language only by a form of the panel ------------------------


def test_logout_and_the_language_switch_refuse_get_and_posts_without_the_csrf_token(app, seller):
    browser = logged_in(app, seller)
    assert browser.get("/logout").status_code == 405
    assert browser.get("/language/en").status_code == 405
    assert browser.http.post("/logout").status_code == 400
    assert browser.http.post("/language/en").status_code == 400
    page = browser.text("/admin/")
    assert "Wyloguj" in page, "still logged in, still in Polish"
    assert '<form method="post" action="/logout"' in page and '<form method="post" action="/language/en"' in page

    assert browser.switch_language("en").status_code == 302
    assert "Log out" in browser.text("/admin/")
    assert browser.log_out().status_code == 302
    assert browser.get("/admin/").status_code == 302


def test_the_login_page_switches_its_language_by_a_form(app):
    browser = AdminBrowser(app)
    assert '<form method="post" action="/language/en"' in browser.text("/login?next=/admin/company/")
    token = browser.csrf_token("/login")
    switched = browser.http.post("/language/en", data={"csrf_token": token, "next": "/login?next=/admin/company/"})
    assert switched.headers["Location"] == "/login?next=/admin/company/"
    assert "E-mail" in browser.text("/login") and "Log in" in browser.text("/login")


# --- security headers -----------------------------------------------------------------------


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "Strict-Transport-Security" not in headers, "only on HTTPS deployments"


def test_every_kind_of_response_carries_the_security_headers(app, api, seller):
    browser = logged_in(app, seller)
    calendar = api.get("/tasks/calendar-token", seller).get_json()["url"]
    responses = {
        "login page": AdminBrowser(app).get("/login"),
        "admin page": browser.get("/admin/"),
        "admin list": browser.get("/admin/company/"),
        "admin static file": browser.get("/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css"),
        "API answer": api.get("/plugins", seller),
        "API refusal": api.http.post("/api/v1/auth/token", json={"email": seller["email"], "password": WRONG}),
        "API error": api.get("/no-such-thing", seller),
        "error page": browser.get("/no-such-page"),
        "calendar feed": api.http.get(calendar.removeprefix("http://localhost")),
        "health": api.http.get("/health"),
    }
    expected = {
        "login page": 200,
        "admin page": 200,
        "admin list": 200,
        "admin static file": 200,
        "API answer": 200,
        "API refusal": 401,
        "API error": 404,
        "error page": 404,
        "calendar feed": 200,
        "health": 200,
    }
    assert {name: response.status_code for name, response in responses.items()} == expected
    for name, response in responses.items():
        assert_security_headers(response), name
