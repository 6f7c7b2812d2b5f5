"""A visit: where and when, and a note; no ``name`` column. A visit plan: every how many
days a company should be visited."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from opiekun.plugin import RecordMixin, db


class Visit(RecordMixin, db.Model):
    __tablename__ = "visits"
    __object_type__ = "visit"

    place: Mapped[str] = mapped_column(String(200))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class VisitPlan(db.Model):
    __tablename__ = "visit_plans"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    every_days: Mapped[int] = mapped_column(Integer)
