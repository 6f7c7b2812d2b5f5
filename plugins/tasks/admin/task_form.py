"""The task form: the API-shaped values it gives the services, reminders as minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from opiekun.plugin import MAX_ID
from opiekun.plugin.admin import AdminForm, LocalDateField, LocalDateTimeField
from opiekun.plugins.tasks.admin.labels import FIELD_LABELS, choices_of
from opiekun.plugins.tasks.models import PRIORITIES
from opiekun.plugins.tasks.services import configuration


class RemindersField(StringField):
    """Reminders as minutes before the task's time, separated by commas ("15, 1440")."""

    def _value(self):
        return ", ".join(str(minutes) for minutes in self.data or [])

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        try:
            self.data = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            self.data = None
            raise ValueError(gettext("Give minutes as whole numbers separated by commas.")) from None
        if any(not 0 <= minutes <= 40320 for minutes in self.data) or len(self.data) > 10:
            raise ValueError(gettext("At most 10 reminders, each 0 to 40320 minutes before."))


def optional_int(value):
    """A select's value as an id, None for its empty choice."""
    return int(value) if value not in (None, "", "None", "__None") else None


class TaskForm(AdminForm):
    """The task form: the fields of the API's task, with the same limits."""

    title = StringField(FIELD_LABELS["title"], validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(FIELD_LABELS["description"], validators=[Optional(), Length(max=5000)])
    type_id = SelectField(FIELD_LABELS["type_id"], coerce=int)
    status_id = SelectField(FIELD_LABELS["status_id"], coerce=optional_int, validate_choice=False)
    responsible_id = SelectField(FIELD_LABELS["responsible_id"], coerce=int)
    participant_ids = SelectMultipleField(FIELD_LABELS["participant_ids"], coerce=int)
    object_type = SelectField(FIELD_LABELS["object_type"], validate_choice=False)
    object_id = IntegerField(FIELD_LABELS["object_id"], validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    due_date = LocalDateField(FIELD_LABELS["due_date"], validators=[Optional()])
    #: typed on the user's clock in their format (stored as UTC)
    start = LocalDateTimeField(FIELD_LABELS["start"], validators=[Optional()])
    end = LocalDateTimeField(FIELD_LABELS["end"], validators=[Optional()])
    priority = SelectField(FIELD_LABELS["priority"], choices=lambda: choices_of(PRIORITIES), default="normal")
    private = BooleanField(FIELD_LABELS["private"])
    reminders = RemindersField(FIELD_LABELS["reminders"])
    done = BooleanField(FIELD_LABELS["done"])


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A form's time (aware: on the user's clock) as UTC."""
    return moment.astimezone(dt.UTC) if moment is not None else None


def form_values(form: TaskForm) -> dict[str, Any]:
    """The form as the API-shaped values the services take."""
    values = {
        "title": form.title.data.strip(),
        "description": (form.description.data or "").strip() or None,
        "type_id": form.type_id.data,
        "responsible_id": form.responsible_id.data,
        "participant_ids": list(form.participant_ids.data or []),
        "object_type": form.object_type.data or None,
        "object_id": form.object_id.data if form.object_type.data else None,
        "start": as_utc(form.start.data),
        "end": as_utc(form.end.data),
        "priority": form.priority.data,
        "private": bool(form.private.data),
        "reminders": form.reminders.data or [],
        "done": bool(form.done.data),
    }
    if configuration.settings()["statuses_enabled"]:
        values["status_id"] = form.status_id.data
    if form.due_date.data is not None or values["start"] is None:
        values["due_date"] = form.due_date.data
    return values
