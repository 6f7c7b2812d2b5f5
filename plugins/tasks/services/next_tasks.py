"""What comes after a task: when one is done, its type proposes the next tasks (or, in
``trigger`` mode, they are created at once), due a delay after the day it was done or its
own date."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from opiekun.plugin import as_local, company_today, deployment_time_zone
from opiekun.plugins.tasks.models import Task


@dataclass(frozen=True)
class ProposedTask:
    """A next task proposed after one is done: a draft to accept (``POST /tasks``)."""

    type_id: int
    type_name: str
    title: str
    due_date: dt.date
    responsible_id: int | None
    object_type: str | None
    object_id: int | None

    def as_values(self) -> dict[str, Any]:
        """The proposal as the values :func:`~opiekun.plugins.tasks.services.tasks.create_task` takes."""
        return {
            "title": self.title,
            "type_id": self.type_id,
            "due_date": self.due_date,
            "responsible_id": self.responsible_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
        }


def add_delay(day: dt.date, amount: int, unit: str) -> dt.date:
    """``day`` plus ``amount`` days, weeks or months (the month's last day when it is shorter)."""
    if unit == "days":
        return day + dt.timedelta(days=amount)
    if unit == "weeks":
        return day + dt.timedelta(weeks=amount)
    month_index = day.month - 1 + amount
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def done_day(task: Task) -> dt.date:
    """The company's day ``task`` was done on (today when it has no time of completion):
    the day a next task's delay counts from, on the deployment's clock, not UTC's."""
    if task.done_at is None:
        return company_today()
    return as_local(task.done_at, deployment_time_zone()).date()


def next_tasks(task: Task, done_day: dt.date) -> list[ProposedTask]:
    """The tasks the type of ``task`` proposes once it is done, with draft due dates."""
    task_type = task.type
    base = done_day if task_type.next_delay_from == "done" or task.due_date is None else task.due_date
    due = add_delay(base, task_type.next_delay, task_type.next_delay_unit)
    return [
        ProposedTask(
            next_type.id,
            next_type.name,
            f"{next_type.name}: {task.title}"[:300],
            due,
            task.owner_id,
            task.object_type,
            task.object_id,
        )
        for next_type in task_type.next_types
        if next_type.active
    ]
