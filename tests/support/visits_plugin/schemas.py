"""What ``/api/v1/visits`` accepts and answers."""

from __future__ import annotations

import datetime as dt

from opiekun.plugin.api import Day, InputModel, RecordId, RecordOut, Text


class VisitCreate(InputModel):
    place: Text(200, min_length=1)
    visited_on: Day
    note: Text(2000) | None = None
    owner_id: RecordId | None = None


class VisitUpdate(InputModel):
    place: Text(200, min_length=1) | None = None
    visited_on: Day | None = None
    note: Text(2000) | None = None
    owner_id: RecordId | None = None


class VisitOut(RecordOut):
    place: str
    visited_on: dt.date
    note: str | None
