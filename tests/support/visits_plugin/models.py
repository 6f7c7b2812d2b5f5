"""A visit: where and when, and a note; no ``name`` column."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opiekun.plugin import RecordMixin, db


class Visit(RecordMixin, db.Model):
    __tablename__ = "visits"
    __object_type__ = "visit"

    place: Mapped[str] = mapped_column(String(200))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
