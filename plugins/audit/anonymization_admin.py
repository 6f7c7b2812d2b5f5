"""Anonymizing a person from the panel (a GDPR request): "Anonymize (GDPR)…" on a person's
page leads to a confirmation that says exactly what will be scrubbed — taken from
:func:`anonymization.anonymization_preview`, the service that then does it — and that it
cannot be undone. Holders of ``audit.anonymize`` only (checked on the server)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from opiekun.plugin import FIELD_LABELS, Conflict, NotFound, RecordType, record_types
from opiekun.plugin.admin import LoginRequired, attempt, current_user_holds
from opiekun.plugins.audit import anonymization
from opiekun.plugins.audit.permissions import ANONYMIZE


def anonymize_section(record_type: RecordType, record: Any) -> list[tuple[str, Markup]]:
    """The button on a person's page, for those who may anonymize."""
    if record_type.name != "person" or getattr(record, "id", None) is None or not current_user_holds(ANONYMIZE.name):
        return []
    if anonymization.anonymization_entry(record.id) is not None:
        return [(gettext("Personal data"), Markup("<p>{}</p>").format(gettext("This person was anonymized already.")))]
    button = Markup('<a class="btn btn-outline-danger" id="anonymize-person" href="{}">{}</a>').format(
        url_for("audit_anonymize.confirm", person_id=record.id), gettext("Anonymize this person (GDPR)…")
    )
    return [(gettext("Personal data"), button)]


class AnonymizeView(LoginRequired, BaseView):
    """The confirmation page and the anonymization itself (not in the menu)."""

    required_permission = ANONYMIZE.name

    def __init__(self):
        super().__init__(name=_l("Anonymize a person"), endpoint="audit_anonymize")

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        """Nothing on its own: the page opens from a person's page."""
        abort(404)

    @expose("/person/<int:person_id>/")
    def confirm(self, person_id: int):
        """What will be scrubbed, and the button that does it."""
        person_url = record_types().get("person").admin_url(person_id)
        try:
            preview = anonymization.anonymization_preview(person_id)
        except NotFound:
            abort(404)
        except Conflict:
            flash(gettext("This person was anonymized already."), "error")
            return redirect(person_url)
        return self.render(
            "audit/anonymize.html",
            preview=preview,
            fields=[FIELD_LABELS.get(field, field) for field in preview.fields],
            own_entries=ngettext(
                "%(num)d entry of the person's history", "%(num)d entries of the person's history", preview.own_entries
            ),
            referring_entries=ngettext(
                "%(num)d entry of other records naming the person",
                "%(num)d entries of other records naming the person",
                preview.referring_entries,
            ),
            person_url=person_url,
        )

    @expose("/person/<int:person_id>/", methods=("POST",))
    def anonymize(self, person_id: int):
        """Anonymize through the service the API calls; then back to the person's page."""
        if anonymization.find_person(person_id) is None:
            abort(404)
        person_url = record_types().get("person").admin_url(person_id)
        succeeded, result = attempt(lambda: anonymization.anonymize_person(person_id))
        if succeeded:
            flash(
                ngettext(
                    "The person is anonymized; %(num)d history entry was scrubbed.",
                    "The person is anonymized; %(num)d history entries were scrubbed.",
                    result["rewritten_entries"],
                ),
                "success",
            )
        return redirect(person_url)
