"""The owner field of record forms: read-only for whom may not choose the owner."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext
from flask_login import current_user
from wtforms.validators import ValidationError

from opiekun.plugin import RecordType
from opiekun.plugins.ownership import rights, settings


def lock_owner_field(record_type: RecordType, form: Any, record: Any | None) -> None:
    """The owner field is read-only for whom may not choose it: a role that may not change
    owners of ``record_type`` (on a new record the owner is then the user themselves), and a
    deputy on the record it stands in for. The browser then sends no owner, and the record
    keeps (or gets) that owner; an owner posted anyway is refused under the field."""
    if not hasattr(form, "owner"):
        return
    user = current_user._get_current_object()
    if record is None:
        owner_id = user.id
        locked = not settings.may_change_owners(user, record_type.name)
    else:
        owner_id = record.owner_id
        locked = not settings.may_change_owners(user, record_type.name) or rights.only_a_deputy(
            user, record_type, record.id, record.owner_id
        )
    if not locked:
        return
    if request.method == "POST" and "owner" not in request.form:
        del form.owner  # nothing to save: the owner stays as it is (a new record's is its creator)
        return
    if settings.may_change_owners(user, record_type.name):
        message = gettext("You are a deputy here: you may edit this record but not change its owner.")
    else:
        message = gettext(
            "Your role may not change the owner here; an admin chooses who may in the ownership settings."
        )
    form.owner.render_kw = {**(form.owner.render_kw or {}), "disabled": True}
    form.owner.description = message
    form.owner.validators = [*form.owner.validators, _keeps_owner(owner_id, message)]


def _keeps_owner(owner_id: int | None, message: str):
    """A field validator: the chosen user must be the record's current owner."""

    def check(form, field) -> None:
        if (field.data.id if field.data is not None else None) != owner_id:
            raise ValidationError(message)

    return check
