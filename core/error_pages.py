"""The pages a person sees when a panel page can't be shown (403, 404, 500…): in their
language, saying what happened and what to do, with a way back to the start page —
never the server's bare English error. The API answers JSON instead
(:mod:`opiekun.api.errors`)."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

#: status → (title, what to do)
ERROR_TEXTS = {
    400: (_l("The request was not understood"), _l("Go back, check what you typed and try again.")),
    403: (
        _l("You may not open this page"),
        _l("Your role does not allow it. If you need it for your work, ask an administrator."),
    ),
    404: (_l("Nothing here"), _l("The page does not exist, or the record it showed was deleted.")),
    405: (_l("This page can't be opened that way"), _l("Go back and use the page's buttons.")),
    413: (_l("Too much data"), _l("What was sent is larger than the panel accepts.")),
    429: (_l("Too many attempts"), _l("Wait a minute and try again.")),
}
GENERIC_TEXT = (_l("Something went wrong"), _l("The problem has been logged. Try again in a moment."))


def error_page(error: HTTPException):
    """The page for ``error`` in the user's language, with its status code."""
    status = error.code or 500
    if status < 400:  # a redirect (a missing trailing slash…) is not an error
        return error
    title, advice = ERROR_TEXTS.get(status, GENERIC_TEXT)
    page = render_template("opiekun/error.html", status=status, title=title, advice=advice)
    return page, status, error.get_headers() if status in (405, 429) else {}
