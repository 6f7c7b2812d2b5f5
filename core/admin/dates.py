"""Dates and times in the panel as the user reads and types them: in their language's format
(``06.12.2026`` in Polish) and on their clock (:mod:`opiekun.local_time`), never UTC.

One table says how each language writes a date; from it come the form fields, the list
filters (which also take the ISO form, so old links keep working) and the settings of
Flask-Admin's date pickers (``local_dates.html`` applies them through
``faForm.addFieldConverter``, Flask-Admin's hook for styling inputs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_month_names
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.form import DatePickerWidget, DateTimePickerWidget
from flask_babel import get_locale, get_timezone, gettext
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField

from opiekun.local_time import days_as_utc, today_in, zone


@dataclass(frozen=True)
class DateFormat:
    """How one language writes a date: for Python (``strptime``) and for the pickers
    (moment.js tokens)."""

    python: str
    picker: str

    @property
    def python_minutes(self) -> str:
        return f"{self.python} %H:%M"

    @property
    def picker_minutes(self) -> str:
        return f"{self.picker} HH:mm"


ISO = DateFormat("%Y-%m-%d", "YYYY-MM-DD")
#: by language; a language not listed writes ISO dates
DATE_FORMATS = {"pl": DateFormat("%d.%m.%Y", "DD.MM.YYYY"), "en": ISO}
#: between the two days of a range, in every language (Flask-Admin's " to " is read too)
RANGE_SEPARATOR = " – "
RANGE_SEPARATORS = (RANGE_SEPARATOR, " to ", " - ")


def language() -> str:
    return str(get_locale() or "pl")


def date_format() -> DateFormat:
    """How the current user's language writes a date."""
    return DATE_FORMATS.get(language(), ISO)


def time_zone_name() -> str:
    return str(get_timezone())


def user_zone() -> ZoneInfo:
    """The user's time zone, for WTForms' ``DateTimeLocalField(tz=user_zone)``: the browser
    sends a naive time, read on this clock (a ``zoneinfo`` zone: Flask-Babel's pytz zones
    would attach a historic offset)."""
    return zone(time_zone_name())


def user_today() -> dt.date:
    """Today on the user's clock."""
    return today_in(time_zone_name())


def range_text(first_day: dt.date, last_day: dt.date) -> str:
    """Two days as a range filter's value in the user's format (``1.12.2026 – 31.12.2026``)."""
    pattern = date_format().python
    return f"{first_day.strftime(pattern)}{RANGE_SEPARATOR}{last_day.strftime(pattern)}"


def read_date(text: str) -> dt.date:
    """A date typed in the user's format (or ISO). ValueError if it is none."""
    text = text.strip()
    for pattern in dict.fromkeys((date_format().python, ISO.python)):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def date_or_none(text: str | None) -> dt.date | None:
    """A day a page's date input sent (the user's format or ISO); None when empty or not a day."""
    try:
        return read_date(text or "")
    except ValueError:
        return None


def date_text(day: dt.date | None) -> str:
    """A day as a date input shows it, in the user's format (``6.12.2026`` → ``06.12.2026``)."""
    return day.strftime(date_format().python) if day is not None else ""


def date_placeholder() -> str:
    """What a date input shows when empty: its format, in the user's words (``dd.mm.rrrr``)."""
    return gettext("dd.mm.yyyy") if date_format() is not ISO else "yyyy-mm-dd"


def split_range(text: str) -> list[str]:
    for separator in RANGE_SEPARATORS:
        if separator in text:
            return text.split(separator)
    return [text]


# --- form fields --------------------------------------------------------------------------


class LocalDateField(DateField):
    """A date typed in the user's format with Flask-Admin's picker (ISO accepted too)."""

    widget = DatePickerWidget()

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.pop("format", None)
        super().__init__(*args, format=[date_format().python, ISO.python], **kwargs)

    def __call__(self, **kwargs: Any):
        kwargs.setdefault("data-date-format", date_format().picker)
        kwargs.setdefault("placeholder", date_placeholder())
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(**kwargs)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed on the user's clock in their format with Flask-Admin's
    picker; the data is aware (the user's zone), stored as UTC by the model's column."""

    widget = DateTimePickerWidget()

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.pop("format", None)
        formats = [date_format().python_minutes, ISO.python_minutes, f"{ISO.python} %H:%M:%S", f"{ISO.python}T%H:%M"]
        formats = list(dict.fromkeys(formats))
        super().__init__(*args, format=formats, tz=user_zone, **kwargs)

    def __call__(self, **kwargs: Any):
        kwargs.setdefault("data-date-format", date_format().picker_minutes)
        return super().__call__(**kwargs)


# --- list filters -------------------------------------------------------------------------


class LocalDateValue:
    """Mixin for Flask-Admin's date filters: the value is one date in the user's format."""

    def clean(self, value: str) -> dt.date:
        return read_date(value)

    def validate(self, value: str) -> bool:
        try:
            read_date(value)
        except ValueError:
            return False
        return True


class LocalDateRange:
    """Mixin for Flask-Admin's date range filters: two dates in the user's format,
    separated by :data:`RANGE_SEPARATOR` (or Flask-Admin's " to "), the first not later."""

    def clean(self, value: str) -> list[dt.date]:
        return [read_date(part) for part in split_range(value)]

    def validate(self, value: str) -> bool:
        try:
            days = self.clean(value)
        except ValueError:
            return False
        return len(days) == 2 and days[0] <= days[1]

    def operation(self):
        return _l("between")


class DateEqualFilter(LocalDateValue, sqla_filters.DateEqualFilter):
    pass


class DateNotEqualFilter(LocalDateValue, sqla_filters.DateNotEqualFilter):
    pass


class DateGreaterFilter(LocalDateValue, sqla_filters.DateGreaterFilter):
    pass


class DateSmallerFilter(LocalDateValue, sqla_filters.DateSmallerFilter):
    pass


class DateBetweenFilter(LocalDateRange, sqla_filters.DateBetweenFilter):
    pass


class DateNotBetweenFilter(LocalDateRange, sqla_filters.DateNotBetweenFilter):
    def operation(self):
        return _l("not between")


class DateRangeFilter(LocalDateRange, sqla_filters.DateBetweenFilter):
    """A timestamp between two days of the user's calendar, both included (the last day
    counts until midnight on the user's clock)."""

    def apply(self, query, value, alias=None):
        start, end = days_as_utc(value[0], value[1], time_zone_name())
        column = self.get_column(alias)
        return query.filter(column >= start, column < end)


class LocalFilterConverter(sqla_filters.FilterConverter):
    """Flask-Admin's filters for each column type, with dates read in the user's format and
    timestamps filtered by the days of the user's calendar."""

    date_filters = (
        DateEqualFilter,
        DateNotEqualFilter,
        DateGreaterFilter,
        DateSmallerFilter,
        DateBetweenFilter,
        DateNotBetweenFilter,
        sqla_filters.FilterEmpty,
    )
    datetime_filters = (DateRangeFilter, sqla_filters.FilterEmpty)


# --- the pickers --------------------------------------------------------------------------


def picker_settings() -> dict[str, Any]:
    """What ``local_dates.html`` gives Flask-Admin's date pickers: the user's format, the
    range separator and the texts, month and day names of the user's language."""
    locale = get_locale()
    days = get_day_names("narrow", locale=locale)  # Monday = 0
    return {
        "date": date_format().picker,
        "dateTime": date_format().picker_minutes,
        "separator": RANGE_SEPARATOR,
        "locale": {
            "applyLabel": gettext("Apply"),
            "cancelLabel": gettext("Cancel"),
            "fromLabel": gettext("From"),
            "toLabel": gettext("To"),
            "weekLabel": gettext("W"),
            "customRangeLabel": gettext("Custom range"),
            "daysOfWeek": [days[(index + 6) % 7] for index in range(7)],  # the picker starts at Sunday
            "monthNames": [
                name.capitalize() for _, name in sorted(get_month_names("abbreviated", "stand-alone", locale).items())
            ],
            "firstDay": (locale.first_week_day + 1) % 7 if locale is not None else 1,
        },
    }
