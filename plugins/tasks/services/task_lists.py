"""Lists of tasks as a viewer may see them: filters, sorting that reveals nothing a
free/busy row hides, and each row with the viewer's level on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, null, or_, select

from opiekun.plugin import Invalid, Message, User, company_today, page_of
from opiekun.plugins.tasks.models import Task, task_participants
from opiekun.plugins.tasks.services.visibility import BUSY_FIELDS, Visibility

#: Filters that look at what only ``read`` shows: using one limits the list to tasks the
#: viewer may read (a free/busy viewer must not learn titles by searching them, nor which
#: busy entries are done by filtering on ``done`` or ``overdue``).
DETAIL_FILTERS = frozenset(
    {
        "q",
        "type_id",
        "status_id",
        "object_type",
        "object_id",
        "priority",
        "participant_id",
        "private",
        "done",
        "overdue",
    }
)


#: What a task list may be sorted by (ties are broken by id).
SORTS = {
    "due_date": Task.due_date,
    "start": Task.start,
    "created_at": Task.created_at,
    "updated_at": Task.updated_at,
    "priority": Task.priority,
    "title": Task.title,
    "done": Task.done,
}


def filters_need_read(names: Iterable[str]) -> bool:
    """Whether filtering by ``names`` (the names of :class:`TaskFilters`) looks at what
    only ``read`` shows, so that only readable tasks may match."""
    return not DETAIL_FILTERS.isdisjoint(names)


def readable(visibility: Visibility, column):
    """``column`` where the viewer may read the task, NULL where it is seen as free/busy
    only: what sorting may look at (busy entries tie, whatever they hide)."""
    if visibility.everything or column.key in BUSY_FIELDS:
        return column
    return case((visibility.condition("read"), column), else_=null())


def task_order(visibility: Visibility, name: str, descending: bool = False) -> list:
    """ORDER BY clauses of a task list sorted by ``name`` as ``visibility`` may sort it:
    by the field where the viewer may read it (empty values last), then by id. The API's
    ``sort`` and the admin's sortable columns both come here."""
    if name not in SORTS:
        raise Invalid(
            Message("cannot sort by that"),
            {"sort": Message("sort by one of %(sorts)s", sorts=", ".join(sorted(SORTS)))},
        )
    key = readable(visibility, SORTS[name])
    if descending:
        return [key.desc().nulls_last(), Task.id.desc()]
    return [key.asc().nulls_last(), Task.id.asc()]


@dataclass(frozen=True)
class TaskFilters:
    """What a task list is narrowed to (the API's list query, the admin's filters)."""

    responsible_id: int | None = None
    responsible_none: bool = False
    type_id: int | None = None
    status_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    done: bool | None = None
    overdue: bool | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    priority: str | None = None
    private: bool | None = None
    participant_id: int | None = None
    q: str | None = None

    def uses_details(self) -> bool:
        """Whether a filter in use looks at what only ``read`` shows."""
        return filters_need_read(name for name in DETAIL_FILTERS if getattr(self, name) is not None)


def filter_conditions(filters: TaskFilters, today: dt.date | None = None) -> list:
    """The WHERE conditions of ``filters`` (``overdue`` counts from ``today``)."""
    today = today or company_today()
    conditions = []
    if filters.responsible_none:
        conditions.append(Task.owner_id.is_(None))
    elif filters.responsible_id is not None:
        conditions.append(Task.owner_id == filters.responsible_id)
    for name in ("type_id", "status_id", "object_type", "object_id", "priority", "done", "private"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(Task, name) == value)
    if filters.overdue is not None:
        overdue = and_(Task.done.is_(False), Task.due_date < today)
        conditions.append(overdue if filters.overdue else ~overdue)
    if filters.due_from is not None:
        conditions.append(Task.due_date >= filters.due_from)
    if filters.due_to is not None:
        conditions.append(Task.due_date <= filters.due_to)
    if filters.participant_id is not None:
        conditions.append(
            Task.id.in_(
                select(task_participants.c.task_id).where(task_participants.c.user_id == filters.participant_id)
            )
        )
    if filters.q:
        conditions.append(
            or_(
                Task.title.icontains(filters.q, autoescape=True), Task.description.icontains(filters.q, autoescape=True)
            )
        )
    return conditions


def visible_tasks(viewer: User, filters: TaskFilters = TaskFilters(), visibility: Visibility | None = None):
    """The SELECT of the tasks ``viewer`` may see that match ``filters``."""
    visibility = visibility or Visibility.of(viewer)
    min_level = "read" if filters.uses_details() else "free_busy"
    return select(Task).where(visibility.condition(min_level), *filter_conditions(filters))


def sorted_tasks(statement, sort: str | None, visibility: Visibility):
    """``statement`` ordered by ``sort`` (``-name`` descending), by due date when none."""
    if not sort:
        return statement.order_by(Task.due_date.asc().nulls_last(), Task.id)  # the index's order on PostgreSQL
    return statement.order_by(*task_order(visibility, sort.lstrip("-"), sort.startswith("-")))


@dataclass(frozen=True)
class SeenTask:
    """A task with the viewer's level on it (what a surface may show of it)."""

    task: Task
    level: str


def list_tasks(
    viewer: User, filters: TaskFilters, page: int, per_page: int, sort: str | None = None
) -> tuple[list[SeenTask], int]:
    """One page of the tasks ``viewer`` may see, each with its level, and how many there are."""
    visibility = Visibility.of(viewer)
    rows, total = page_of(sorted_tasks(visible_tasks(viewer, filters, visibility), sort, visibility), page, per_page)
    return seen(visibility, rows), total


def seen(visibility: Visibility, tasks: Sequence[Task]) -> list[SeenTask]:
    """Each task with the viewer's level on it (one query for the participations of a page)."""
    mine = visibility.participates_in([task.id for task in tasks]) if not visibility.everything else set()
    return [SeenTask(task, visibility.level_of(task, participant=task.id in mine)) for task in tasks]
