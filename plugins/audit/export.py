"""The history as an Excel workbook (.xlsx), for the API, the admin and the export job.

openpyxl's write-only mode keeps only the current row in memory (rows go to a temporary
file per sheet, zipped when the workbook is saved), and the entries are read with a
server-side cursor in batches, so memory stays flat for millions of rows. A sheet holds at
most 1,048,576 rows (Excel's limit, header included): the export continues on "History
(2)", "History (3)"… Timestamps are real Excel dates; Excel has no time zones, so they are
written on one clock, named in the header: UTC in the API's workbook, the user's time zone
in the admin's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import DateTime, Text, cast, func, type_coerce

from opiekun.plugin import VALUE_LABELS, as_local, db, replica_reads, value_label, xlsx_text
from opiekun.plugins.audit.entries import ENTRIES, REDACTED
from opiekun.plugins.audit.history import HistoryFilter, filtered_entries

#: Excel's row limit per sheet (the header row included).
EXCEL_MAX_ROWS = 1_048_576
READ_BATCH = 2000
SHEET_TITLE = "History"
HEADER = (
    "ID",
    "Date (UTC)",
    "User ID",
    "User",
    "Job",
    "Record type",
    "Record ID",
    "Record",
    "Link",
    "Operation",
    "Changes",
    "Context",
)


class Vocabulary:
    """The words of a workbook in one language and the clock of its dates: the header, the
    sheet's title, and the operations, record types and field labels of its rows (each
    translated once, then cached: an export may hold millions of rows). ``language=None``
    is the API's workbook: English, stored values as they are (integrators read the
    codes), dates in UTC."""

    def __init__(self, language: str | None = None, time_zone: str | None = None):
        self.language = language
        self.time_zone = time_zone or "UTC"
        self._cache: dict[tuple[str, str], str] = {}
        with self._locale():
            self.header = tuple(self._word(text) for text in HEADER)
            if self.time_zone != "UTC":
                self.header = (self.header[0], self._date_header(), *self.header[2:])
            self.sheet_title = self._word(SHEET_TITLE)[:28]

    def _date_header(self) -> str:
        from flask_babel import gettext

        return gettext("Date (%(zone)s)", zone=self.time_zone)

    def _locale(self):
        from flask_babel import force_locale

        return force_locale(self.language or "en")

    def _word(self, text: str) -> str:
        if self.language is None:
            return text
        from flask_babel import gettext

        return gettext(text)

    def _cached(self, kind: str, value: str, translate: Callable[[str], str]) -> str:
        if self.language is None or not value:
            return value
        key = (kind, value)
        if key not in self._cache:
            with self._locale():
                self._cache[key] = translate(value)
        return self._cache[key]

    def operation(self, operation: str) -> str:
        from opiekun.plugins.audit.labels import operation_label

        return self._cached("operation", operation, operation_label)

    def record_type(self, object_type: str) -> str:
        from opiekun.plugins.audit.labels import record_type_label

        return self._cached("type", object_type, record_type_label)

    def field(self, label: str) -> str:
        return self._cached("field", label, self._word)

    def value(self, value: Any, label: Any) -> str:
        """A changed field's old or new value: the API's workbook writes what is stored
        (a referenced row as ``label [id]``); a person's, as the history page shows it —
        "—" for nothing, tak/nie, translated values (``open`` → "otwarta")."""
        if self.language is None:
            return _stored(value, label)
        if REDACTED in (value, label):
            return self._cached("word", "(anonymized)", self._word)
        if label is not None and label != value:
            return f"{label}" if value is None else f"{label} [{value}]"
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return self._cached("word", "yes" if value else "no", self._word)
        if isinstance(value, list):
            return ", ".join(self.value(item, None) for item in value)
        if isinstance(value, str) and value in VALUE_LABELS:
            return self._cached("value", value, value_label)
        return str(value)


#: The API's workbook (English, stored codes).
ENGLISH = Vocabulary()


def _stored(value: Any, label: Any) -> str:
    if label is not None and label != value:
        return f"{label}" if value is None else f"{label} [{value}]"
    return "" if value is None else str(value)


def changes_text(changes: list | None, vocabulary: Vocabulary = ENGLISH) -> str:
    """``Label: old → new`` per changed field, one per line."""
    shown = _stored if vocabulary.language is None else vocabulary.value  # the API's: no lookups
    lines = []
    for item in changes or ():
        label = vocabulary.field(item.get("field_label") or item.get("field"))
        lines.append(
            f"{label}: {shown(item.get('old'), item.get('old_label'))} → {shown(item.get('new'), item.get('new_label'))}"
        )
    return "\n".join(lines)


def context_text(context: Mapping | None) -> str:
    """The change's context as ``key=value`` pairs (what anonymization rewrote left out)."""
    if not context:
        return ""
    return ", ".join(f"{key}={value}" for key, value in sorted(context.items()) if key != "redacted")


def _naive_at(dialect_name: str, time_zone: str):
    """``at`` as a naive timestamp on the clock of ``time_zone`` (Excel has no time zones):
    PostgreSQL converts it while reading, skipping the per-row conversion in Python; SQLite
    keeps UTC without a zone (:func:`_clock` converts it)."""
    if dialect_name == "postgresql":
        return func.timezone(time_zone, ENTRIES.c.at).label("at")
    return type_coerce(ENTRIES.c.at, DateTime()).label("at")


def _clock(dialect_name: str, time_zone: str) -> Callable[[Any], Any] | None:
    """What still turns a read ``at`` into the time on the workbook's clock (None: nothing)."""
    if dialect_name == "postgresql" or time_zone == "UTC":
        return None
    return lambda at: as_local(at, time_zone) if at is not None else None


def _export_columns(dialect_name: str, time_zone: str = "UTC") -> tuple:
    """The columns of a sheet row, as cheap for the driver as possible: ``at`` naive on the
    workbook's clock, ``changes`` and ``context`` as their JSON text (decoded once, by
    :func:`_sheet_rows`, instead of by the driver's JSON loader and the column type)."""
    columns = ENTRIES.c
    return (
        columns.id,
        _naive_at(dialect_name, time_zone),
        columns.user_id,
        columns.user_name,
        columns.job,
        columns.object_type,
        columns.object_id,
        columns.object_name,
        columns.object_url,
        columns.operation,
        cast(columns.changes, Text).label("changes"),
        cast(columns.context, Text).label("context"),
    )


def entry_rows(
    history_filter: HistoryFilter, vocabulary: Vocabulary = ENGLISH, site_url: str | None = None
) -> Iterator[tuple]:
    """The filtered entries as sheet rows (plain tuples), newest first, read
    ``READ_BATCH`` at a time (server-side cursor on PostgreSQL); links to records are
    absolute under ``site_url`` (where the export was asked), so they open from Excel."""
    site = site_url.rstrip("/") if site_url else ""
    dialect = db.session.get_bind().dialect.name
    statement = filtered_entries(history_filter, _export_columns(dialect, vocabulary.time_zone))
    # the connection the session reads this statement on: the replica's inside replica_reads()
    connection = db.session.connection(bind_arguments={"clause": statement})
    result = connection.execution_options(stream_results=True, yield_per=READ_BATCH).execute(statement)
    clock = _clock(dialect, vocabulary.time_zone)
    for batch in result.partitions():
        yield from _sheet_rows(batch, vocabulary, site, clock)


def _sheet_rows(
    batch, vocabulary: Vocabulary = ENGLISH, site: str = "", clock: Callable[[Any], Any] | None = None
) -> list[tuple]:
    """A batch of entries as sheet rows, ``changes`` and ``context`` as readable text, every
    text inert (:func:`~opiekun.spreadsheets.xlsx_text`), ``at`` on the workbook's clock.
    Made in one go per batch: measurably cheaper than a generator step per entry between
    openpyxl's cells."""
    return [
        (
            entry_id,
            clock(at) if clock is not None else at,
            user_id,
            xlsx_text(user_name),
            xlsx_text(job),
            xlsx_text(vocabulary.record_type(object_type)),
            object_id,
            xlsx_text(object_name),
            xlsx_text(site + object_url if object_url and object_url.startswith("/") else object_url),
            xlsx_text(vocabulary.operation(operation)),
            xlsx_text(changes_text(json.loads(changes), vocabulary)) if changes else "",
            xlsx_text(context_text(json.loads(context))) if context else "",
        )
        for (
            entry_id,
            at,
            user_id,
            user_name,
            job,
            object_type,
            object_id,
            object_name,
            object_url,
            operation,
            changes,
            context,
        ) in batch
    ]


def write_workbook(
    rows: Iterator[tuple],
    target: str | Path,
    *,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
    vocabulary: Vocabulary = ENGLISH,
) -> int:
    """Write ``rows`` under the vocabulary's header into a new workbook at ``target``, with
    Excel's filter on the header; returns how many rows were written. An empty ``rows``
    still makes a valid file (the header only)."""
    workbook = Workbook(write_only=True)
    sheet = None
    in_sheet = max_rows
    sheets = 0
    written = 0
    for row in rows:
        if in_sheet >= max_rows:
            if sheet is not None:
                _add_filter(sheet, in_sheet)
            sheets += 1
            sheet = _new_sheet(workbook, sheets, vocabulary)
            in_sheet = 1
        sheet.append(row)
        in_sheet += 1
        written += 1
        if progress is not None and written % progress_every == 0:
            progress(written)
    if sheet is None:
        sheet, in_sheet = _new_sheet(workbook, 1, vocabulary), 1
    _add_filter(sheet, in_sheet)
    workbook.save(str(target))
    return written


def _add_filter(sheet, rows: int) -> None:
    """Excel's filter buttons on the header, over the sheet's ``rows`` (header included)."""
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(ENGLISH.header))}{max(rows, 1)}"


def _new_sheet(workbook: Workbook, number: int, vocabulary: Vocabulary):
    title = vocabulary.sheet_title
    sheet = workbook.create_sheet(title if number == 1 else f"{title} ({number})")
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["H"].width = 30
    sheet.column_dimensions["K"].width = 60
    sheet.freeze_panes = "A2"
    sheet.append(vocabulary.header)
    return sheet


def export_history(
    history_filter: HistoryFilter,
    target: str | Path,
    language: str | None = None,
    site_url: str | None = None,
    time_zone: str | None = None,
    **options: Any,
) -> int:
    """Write the entries matching ``history_filter`` to ``target`` (.xlsx), in
    ``language`` on the clock of ``time_zone`` (the admin's: the user's) or as the API's
    English workbook in UTC (``None``); links to records are absolute when ``site_url``
    (where the export was asked) is given. Read from the replica when there is one
    (:func:`opiekun.plugin.replica_reads`)."""
    vocabulary = Vocabulary(language, time_zone) if language or time_zone else ENGLISH
    with replica_reads():
        rows = entry_rows(history_filter, vocabulary, site_url)
        return write_workbook(rows, target, vocabulary=vocabulary, **options)
