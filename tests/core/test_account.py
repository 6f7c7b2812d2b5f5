"""'My account' (the logged-in user's own page): guests are sent to log in, the password
form follows the API's rules, and nothing changes without the CSRF token."""

from __future__ import annotations

from opiekun.testing.apps import PASSWORD
from opiekun.testing.clients import flashed, logged_in


def test_guests_are_sent_to_log_in(app):
    response = app.test_client().get("/admin/account/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_weak_or_mismatched_new_password_is_refused_and_the_old_one_stays(app, seller):
    browser = logged_in(app, seller)
    for new, again, expected in (
        ("krotkie", "krotkie", "co najmniej 10"),
        ("Zielona-Herbata-2031", "Inna-Herbata-2031", "Nowe hasła się różnią."),
        ("Zielona\x07Herbata-2031", "Zielona\x07Herbata-2031", "Znaki sterujące"),
    ):
        response = browser.submit(
            "/admin/account/password/",
            {"current_password": PASSWORD, "new_password": new, "repeated": again},
            form_url="/admin/account/",
        )
        page = response.get_data(as_text=True)
        assert expected.lower() in (page + flashed(response)).lower(), expected
    assert logged_in(app, seller).get("/admin/account/").status_code == 200, "the old password still works"


def test_no_password_change_without_the_csrf_token(app, seller):
    browser = logged_in(app, seller)
    response = browser.http.post(
        "/admin/account/password/",
        data={"current_password": PASSWORD, "new_password": "Zielona-Herbata-2031", "repeated": "Zielona-Herbata-2031"},
    )
    assert response.status_code == 400
    assert logged_in(app, seller).get("/admin/account/").status_code == 200
