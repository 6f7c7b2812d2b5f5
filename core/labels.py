"""Translatable labels of the domain, for every surface that shows it to people (the admin,
exports, the change history): the names of the core's fields and of its record types
(declared untranslated in :mod:`opiekun.core_records`, so they are listed here for the
message catalog), the values of its status columns and roles, and users as shown next to
records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from opiekun.errors import Translatable
from opiekun.record_registry import record_types

#: Column labels of the core's models; a partner's columns fall back to Flask-Admin's
#: prettified column name.
#: The panel's languages, each named in itself (as the language switch shows them).
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}
LANGUAGES = tuple(LANGUAGE_NAMES)

FIELD_LABELS = {
    "id": _l("ID"),
    "name": _l("Name"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "position": _l("Position"),
    "website": _l("Website"),
    "city": _l("City"),
    "address": _l("Address"),
    "tax_id": _l("Tax ID"),
    "company": _l("Company"),
    "company_id": _l("Company"),
    "person_id": _l("Person"),
    "deal_id": _l("Deal"),
    "status": _l("Status"),
    "source": _l("Source"),
    "value": _l("Value"),
    "currency": _l("Currency"),
    "pipeline": _l("Pipeline"),
    "stage_ref": _l("Stage"),
    "stages": _l("Stages"),
    "probability": _l("Probability (%)"),
    "close_date": _l("Close date"),
    "lost_reason": _l("Reason for loss"),
    "valid_until": _l("Valid until"),
    "number": _l("Number"),
    "amount": _l("Amount"),
    "issue_date": _l("Issue date"),
    "due_date": _l("Due date"),
    "owner": _l("Owner"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
    "role": _l("Role"),
    "departed_at": _l("Departed on"),
    "locale": _l("Language"),
    "time_zone": _l("Time zone"),
    "password": _l("Password"),
    "label": _l("Label"),
    "permissions": _l("Permissions"),
    "kind": _l("Kind"),
    "message": _l("Message"),
    "read_at": _l("Read"),
}

#: The core's record type labels (singular, plural), so that the catalog has them.
CORE_RECORD_LABELS = (
    (_l("Company"), _l("Companies")),
    (_l("Person"), _l("Persons")),
    (_l("Lead"), _l("Leads")),
    (_l("Deal"), _l("Deals")),
    (_l("Offer"), _l("Offers")),
    (_l("Invoice"), _l("Invoices")),
)

#: Values of the core's status columns and roles, shown translated in lists and selects.
VALUE_LABELS = {
    "active": _l("active"),
    "departed": _l("departed"),
    "admin": _l("administrator"),
    "manager": _l("manager"),
    "user": _l("user"),
    "open": _l("open"),
    "won": _l("won"),
    "lost": _l("lost"),
    "draft": _l("draft"),
    "sent": _l("sent"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "issued": _l("issued"),
    "paid": _l("paid"),
    "cancelled": _l("cancelled"),
    "new": _l("new"),
    "contacted": _l("contacted"),
    "qualified": _l("qualified"),
    "disqualified": _l("disqualified"),
    # owner periods (ownership) and tasks, as the change history shows their values
    "primary": _l("primary owner"),
    "deputy": _l("deputy"),
    "write": _l("read and change"),
    "read": _l("read only"),
    "low": _l("low"),
    "normal": _l("normal"),
    "high": _l("high"),
}


def value_label(value: str | None) -> str:
    """A status or role value as the user reads it (unknown values as they are)."""
    if value is None:
        return ""
    return str(VALUE_LABELS.get(value, value))


def user_label(user) -> str:
    """A user as shown next to records: departed users are marked, with their e-mail
    (the translated twin of :attr:`opiekun.models.User.display_name`)."""
    if user is None:
        return ""
    if user.status == "departed":
        return gettext("departed: %(name)s (%(email)s)", name=user.name, email=user.email)
    return user.name


#: How refusals name the core's rows that are not record types.
NOUN_LABELS = {
    "user": _l("User"),
    "role": _l("Role"),
    "pipeline": _l("Pipeline"),
    "pipelinestage": _l("Pipeline stage"),
    "notification": _l("Notification"),
}


def record_type_label(name: str) -> Translatable:
    """A record type named in a refusal: ``company`` in the API, its label ("Firma") in
    the admin; the code itself when no enabled plugin registers it."""

    def label() -> str:
        record_type = record_types().get(name)
        if record_type is not None:
            return gettext(record_type.label)
        return str(NOUN_LABELS.get(name, name))

    return Translatable(name, label)


def record_types_label(names: Iterable[str]) -> Translatable:
    """Record types named in a refusal: ``person, company`` in the API, their plural
    labels ("Osoby, Firmy") in the admin."""
    names = list(names)

    def labels() -> str:
        plurals = {record_type.name: gettext(record_type.label_plural) for record_type in record_types()}
        return ", ".join(plurals.get(name, name) for name in names)

    return Translatable(", ".join(names), labels)


def moment_text(moment: dt.datetime) -> Translatable:
    """A moment named in a refusal: ISO 8601 in UTC in the API, the user's clock and format
    in the admin ("1.02.2030, 10:00")."""
    return Translatable(moment.astimezone(dt.UTC).isoformat(), lambda: format_datetime(moment, "short"))
