""" "Change owner…" on every record list: enova365's "Dodaj opiekuna" for the ticked rows or
for every record matching the list's filter (one request to :func:`assignments.assign_owners`)."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectField
from wtforms.validators import DataRequired, Optional

from opiekun.plugin import RecordType, user_label
from opiekun.plugin.admin import AdminForm, BulkAction, LocalDateField, RecordSelection, active_users
from opiekun.plugins.ownership import assignments, periods, settings
from opiekun.plugins.ownership.admin.labels import (
    ACCESS_LABELS,
    KIND_LABELS,
    POLICY_LABELS,
    choices,
    role_choices,
)


def change_owner_form() -> type:
    """The form's fields: the user, kind, role, dates, overlap policy and a deputy's access."""

    class ChangeOwnerForm(AdminForm):
        user = QuerySelectField(
            _l("New owner"), query_factory=active_users, get_label=user_label, validators=[DataRequired()]
        )
        kind = SelectField(_l("Owner kind"), choices=choices(KIND_LABELS), default="primary")
        role = SelectField(_l("Owner role"), choices=role_choices)
        valid_from = LocalDateField(_l("From"), default=periods.today, validators=[DataRequired()])
        valid_to = LocalDateField(_l("To (empty: indefinite)"), validators=[Optional()])
        on_overlap = SelectField(_l("When periods overlap"), choices=choices(POLICY_LABELS), default="replace")
        access = SelectField(_l("Deputy's access"), choices=choices(ACCESS_LABELS), default="write")

    return ChangeOwnerForm


def assignment_request(record_type: RecordType, values: dict[str, Any], **target: Any) -> assignments.AssignmentRequest:
    """The service's request from the form's values; ``target`` chooses the records."""
    return assignments.AssignmentRequest(
        object_type=record_type.name,
        user_id=values["user"].id,
        kind=values["kind"],
        role=values["role"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        access=values["access"] if values["kind"] == "deputy" else "write",
        on_overlap=values["on_overlap"],
        **target,
    )


def outcome_message(kind: str, counts: assignments.AssignmentCounts) -> str:
    """What the request did, in words that fit its kind (a deputy is not an owner change)."""
    if counts.created == 0 and counts.unchanged and not counts.skipped:
        return ngettext(
            "Nothing changed: the record already has this owner for this period.",
            "Nothing changed: the %(num)d records already have this owner for this period.",
            counts.unchanged,
        )
    if kind == "deputy":
        done = ngettext("Deputy added to %(num)d record.", "Deputy added to %(num)d records.", counts.created)
    else:
        done = ngettext("Owner changed on %(num)d record.", "Owner changed on %(num)d records.", counts.created)
    details = []
    if counts.unchanged:
        details.append(ngettext("%(num)d already had it", "%(num)d already had it", counts.unchanged))
    if counts.skipped:
        details.append(ngettext("%(num)d kept as it was", "%(num)d kept as they were", counts.skipped))
    if counts.replaced:
        details.append(
            ngettext("%(num)d earlier period ended", "%(num)d earlier periods ended or shortened", counts.replaced)
        )
    return f"{done.rstrip('.')} ({'; '.join(details)})." if details else done


def change_owner(record_type: RecordType, selection: RecordSelection, values: dict[str, Any]) -> str:
    """The bulk action's handler: every selected record (or all matching) at once."""
    request = assignment_request(
        record_type,
        values,
        object_ids=selection.ids,
        condition=selection.condition if selection.whole_list else None,
    )
    counts = assignments.assign_owners(request, current_user._get_current_object())
    return outcome_message(values["kind"], counts)


def change_owner_action(record_type: RecordType) -> BulkAction:
    """The "Change owner…" action of ``record_type``'s list, for roles that may change owners."""
    return BulkAction(
        "ownership_change_owner",
        _l("Change owner…"),
        change_owner,
        form=change_owner_form,
        whole_list=True,
        allowed=lambda user, type_: settings.may_change_owners(user, type_.name),
    )
