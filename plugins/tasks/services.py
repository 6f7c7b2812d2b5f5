"""Every rule about tasks, in one place: the API, the admin, the calendar feed, the jobs
and the deal-closed hook all come here, so they cannot disagree.

Visibility (who sees which task, and how much) is :class:`Visibility`: built once per
request from the viewer's sharing grants (one indexed query), it yields a set-based SQL
condition for lists and the level of each row for what the row may show.

Levels, weakest first: ``none`` (invisible), ``free_busy`` (only that a time is taken:
start, end, due date, whose), ``read`` (everything, changes nothing), ``full`` (may edit
and delete). The responsible user and holders of ``tasks.see_all`` (admins) have ``full``;
a participant and the task's author have at least ``read``; a grant for one task type wins over the grant for
all types; another user's *private* task is at most ``free_busy`` for grantees.

The author of a task given to someone else keeps ``read`` access to it, as a participant does.

A task the viewer cannot see at all answers 404 (its existence is not revealed); a task
seen at a lower level than an action needs answers 403.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from opiekun.api.errors import Conflict, Forbidden, Invalid, Message, NotFound
from opiekun.changes import (
    FieldChange,
    RecordChange,
    current_actor,
    record_event,
    update_records,
)
from opiekun.extensions import db
from opiekun.models import Pipeline, Setting, User, utcnow
from opiekun.permissions import has_permission
from opiekun.records import load_for_change
from opiekun.plugins.tasks.models import (
    DEFAULT_STATUSES,
    DEFAULT_TYPES,
    SHARING_LEVELS,
    CalendarKey,
    PostSaleTemplate,
    Task,
    TaskReminder,
    TaskShare,
    TaskStatus,
    TaskTemplate,
    TaskTemplateItem,
    TaskType,
    task_participants,
)
from opiekun.record_types import record_types
from opiekun.user_items import in_share
from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)

SEE_ALL = "tasks.see_all"
CONFIGURE = "tasks.configure"
ASSIGN = "tasks.assign"
SHARE_OTHERS = "tasks.share_others"

LEVEL_RANK = {level: rank for rank, level in enumerate(SHARING_LEVELS)}
SETTINGS_KEY = "tasks.settings"
DEFAULT_SETTINGS = {"statuses_enabled": False}
#: Record types a new template may be applied to unless it says otherwise.
DEFAULT_TEMPLATE_TYPES = ("person", "company", "lead", "deal")
#: A reminder of a task without a time counts from 9:00 UTC of its day.
DAY_REMINDER_TIME = dt.time(9, 0)
#: Above this many participations the visibility rule uses a subquery instead of a list.
PARTICIPATION_LIST_LIMIT = 2000
MAX_PARTICIPANTS = 50

#: Fields a free/busy viewer sees.
BUSY_FIELDS = ("id", "responsible_id", "start", "end", "due_date")


def _at_least(level: str, needed: str) -> bool:
    return LEVEL_RANK[level] >= LEVEL_RANK[needed]


# --- defaults and settings -----------------------------------------------------------------


def ensure_defaults() -> None:
    """The default task types and statuses exist (created once, when none exist at all;
    admins rename and deactivate them afterwards, never delete them)."""
    if db.session.scalar(select(TaskType.id).limit(1)) is None:
        db.session.execute(insert(TaskType), [
            {"name": name, "active": True, "position": position, "next_mode": "suggest", "next_delay": 1,
             "next_delay_unit": "days", "next_delay_from": "done", "created_at": utcnow()}
            for position, name in enumerate(DEFAULT_TYPES, start=1)
        ])
    if db.session.scalar(select(TaskStatus.id).limit(1)) is None:
        db.session.execute(insert(TaskStatus), [
            {"name": name, "active": True, "position": position} for position, name in enumerate(DEFAULT_STATUSES, start=1)
        ])


def settings() -> dict[str, Any]:
    stored = db.session.get(Setting, SETTINGS_KEY)
    value = stored.value if stored is not None and isinstance(stored.value, dict) else {}
    return {**DEFAULT_SETTINGS, **{key: value[key] for key in DEFAULT_SETTINGS if key in value}}


def change_settings(actor: User, values: Mapping[str, Any]) -> dict[str, Any]:
    require_permission(actor, CONFIGURE)
    merged = {**settings(), **{key: value for key, value in values.items() if key in DEFAULT_SETTINGS}}
    stored = db.session.get(Setting, SETTINGS_KEY)
    if stored is None:
        db.session.add(Setting(key=SETTINGS_KEY, value=merged))
    else:
        stored.value = merged
    db.session.flush()
    return merged


def require_permission(user: User, permission: str) -> None:
    if not has_permission(user, permission):
        raise Forbidden(Message("this needs the permission %(permission)r", permission=permission))


# --- visibility ------------------------------------------------------------------------------


@dataclass
class Visibility:
    """What one viewer may see of whose tasks: built from their grants in one query."""

    viewer_id: int
    everything: bool = False
    #: owner -> level for all that owner's task types
    general: dict[int, str] = field(default_factory=dict)
    #: (owner, task type) -> level for that type (wins over ``general``)
    specific: dict[tuple[int, int], str] = field(default_factory=dict)
    _participations: Any = field(default=None, repr=False)

    @classmethod
    def of(cls, viewer: User) -> Visibility:
        if has_permission(viewer, SEE_ALL):
            return cls(viewer.id, everything=True)
        visibility = cls(viewer.id)
        rows = db.session.execute(
            select(TaskShare.owner_id, TaskShare.task_type_id, TaskShare.level).where(TaskShare.grantee_id == viewer.id))
        for owner_id, type_id, level in rows:
            if type_id is None:
                visibility.general[owner_id] = level
            else:
                visibility.specific[(owner_id, type_id)] = level
        return visibility

    # --- one task ---

    def scope_level(self, owner_id: int | None, type_id: int | None) -> str:
        """The level granted on the tasks of ``owner_id`` of type ``type_id``."""
        if self.everything or (owner_id is not None and owner_id == self.viewer_id):
            return "full"
        if owner_id is None:
            return "none"
        return self.specific.get((owner_id, type_id)) or self.general.get(owner_id, "none")

    def level_of(self, task: Task, participant: bool | None = None) -> str:
        level = self.scope_level(task.owner_id, task.type_id)
        if level == "full" and (self.everything or task.owner_id == self.viewer_id):
            return level
        if task.private and _at_least(level, "read"):
            level = "free_busy"
        if participant is None:
            participant = self.viewer_id in task.participant_ids
        if (participant or task.created_by_id == self.viewer_id) and not _at_least(level, "read"):
            level = "read"
        return level

    # --- many tasks, in SQL ---

    def participations(self):
        """The ids of tasks the viewer takes part in: a short list, or a subquery (once per
        request)."""
        if self._participations is None:
            subquery = select(task_participants.c.task_id).where(task_participants.c.user_id == self.viewer_id)
            ids = db.session.scalars(subquery.limit(PARTICIPATION_LIST_LIMIT + 1)).all()
            self._participations = ids if len(ids) <= PARTICIPATION_LIST_LIMIT else subquery
        return self._participations

    def participates_in(self, task_ids: Sequence[int]) -> set[int]:
        """Which of ``task_ids`` the viewer takes part in."""
        participations = self.participations()
        if isinstance(participations, list):
            return set(participations) & set(task_ids)
        return participation_of(self.viewer_id, task_ids)

    def condition(self, min_level: str = "free_busy"):
        """SQL: the task is visible to the viewer at ``min_level`` or more.

        Set-based and index-friendly: own tasks, ``owner_id IN (...)`` for owners shared in
        full, ``owner_id = o AND type_id [NOT] IN (...)`` where per-type grants differ, the
        tasks the viewer wrote or takes part in — no per-row subquery over the grants. The
        viewer's ids are written into the SQL (integers only), so PostgreSQL plans each
        viewer's query for its real grants instead of a generic prepared plan.
        """
        if self.everything:
            return true()
        shared = []
        whole_owners = []
        owners = set(self.general) | {owner for owner, _ in self.specific}
        for owner in sorted(owners):
            general_ok = _at_least(self.general.get(owner, "none"), min_level)
            per_type = {type_id: level for (owner_id, type_id), level in self.specific.items() if owner_id == owner}
            if general_ok:
                excluded = sorted(type_id for type_id, level in per_type.items() if not _at_least(level, min_level))
                if excluded:
                    shared.append(and_(Task.owner_id == _inline(owner), Task.type_id.not_in(_inline_list(excluded))))
                else:
                    whole_owners.append(owner)
            else:
                included = sorted(type_id for type_id, level in per_type.items() if _at_least(level, min_level))
                if included:
                    shared.append(and_(Task.owner_id == _inline(owner), Task.type_id.in_(_inline_list(included))))
        if whole_owners:
            shared.append(Task.owner_id.in_(_inline_list(whole_owners)))
        viewer = _inline(self.viewer_id)
        parts = [Task.owner_id == viewer]
        if shared:
            shared_condition = or_(*shared)
            if _at_least(min_level, "read"):  # others' private tasks are only ever free/busy
                shared_condition = and_(shared_condition, Task.private.is_(False))
            parts.append(shared_condition)
        parts.append(Task.created_by_id == viewer)
        participations = self.participations()
        if isinstance(participations, list):
            if participations:
                parts.append(Task.id.in_(_inline_list(participations)))
        else:
            parts.append(Task.id.in_(participations))
        return or_(*parts)

    def may_see_calendar_of(self, owner_id: int) -> bool:
        if self.everything or owner_id == self.viewer_id:
            return True
        return (self.general.get(owner_id, "none") != "none"
                or any(owner == owner_id and level != "none" for (owner, _), level in self.specific.items()))


def _inline(value: int):
    """An integer written into the SQL text (see :meth:`Visibility.condition`)."""
    return literal(int(value), Integer, literal_execute=True)


def _inline_list(values: Sequence[int]):
    return bindparam(None, [int(value) for value in values], type_=Integer, expanding=True, literal_execute=True)


def participation_of(viewer_id: int, task_ids: Sequence[int]) -> set[int]:
    """Which of ``task_ids`` the viewer takes part in (one query for a page of tasks)."""
    if not task_ids:
        return set()
    return set(db.session.scalars(select(task_participants.c.task_id).where(
        task_participants.c.user_id == viewer_id, task_participants.c.task_id.in_(task_ids))))


def task_or_404(task_id: int, *, for_change: bool = False) -> Task:
    """The task, or 404; ``for_change`` loads it locked with its current values
    (:func:`opiekun.records.load_for_change`), so concurrent changes run one after the other."""
    task = None
    if 0 < task_id < 2**31:
        task = load_for_change(Task, task_id) if for_change else db.session.get(Task, task_id)
    if task is None:
        raise NotFound(Message("no task with id %(id)s", id=task_id))
    return task


def visible_task(viewer: User, task_id: int, needed: str = "free_busy") -> tuple[Task, str]:
    """The task and the viewer's level on it; 404 when it is invisible, 403 when the
    viewer sees it but below ``needed`` (``full`` is asked for a change: the task is then
    loaded for it, locked)."""
    task = task_or_404(task_id, for_change=needed == "full")
    level = Visibility.of(viewer).level_of(task)
    if level == "none":
        raise NotFound(Message("no task with id %(id)s", id=task_id))
    if not _at_least(level, needed):
        raise Forbidden(Message("your access to this task is %(level)r; this needs %(needed)r", level=level, needed=needed))
    return task, level


# --- lists ---------------------------------------------------------------------------------


#: Filters that look at what only ``read`` shows: using one limits the list to tasks the
#: viewer may read (a free/busy viewer must not learn titles by searching them, nor which
#: busy entries are done by filtering on ``done`` or ``overdue``).
DETAIL_FILTERS = frozenset({"q", "type_id", "status_id", "object_type", "object_id", "priority", "participant_id", "private",
                            "done", "overdue"})

#: What a task list may be sorted by (ties are broken by id).
SORTS = {"due_date": Task.due_date, "start": Task.start, "created_at": Task.created_at, "updated_at": Task.updated_at,
         "priority": Task.priority, "title": Task.title, "done": Task.done}


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
        raise Invalid(Message("cannot sort by that"), {"sort": Message("sort by one of %(sorts)s", sorts=", ".join(sorted(SORTS)))})
    key = readable(visibility, SORTS[name])
    if descending:
        return [key.desc().nulls_last(), Task.id.desc()]
    return [key.asc().nulls_last(), Task.id.asc()]


@dataclass(frozen=True)
class TaskFilters:
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
        return filters_need_read(name for name in DETAIL_FILTERS if getattr(self, name) is not None)


def filter_conditions(filters: TaskFilters, today: dt.date | None = None) -> list:
    today = today or utcnow().date()
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
        conditions.append(Task.id.in_(select(task_participants.c.task_id).where(task_participants.c.user_id == filters.participant_id)))
    if filters.q:
        conditions.append(or_(Task.title.icontains(filters.q, autoescape=True),
                              Task.description.icontains(filters.q, autoescape=True)))
    return conditions


def visible_tasks(viewer: User, filters: TaskFilters = TaskFilters(), visibility: Visibility | None = None):
    """The SELECT of the tasks ``viewer`` may see that match ``filters``."""
    visibility = visibility or Visibility.of(viewer)
    min_level = "read" if filters.uses_details() else "free_busy"
    return select(Task).where(visibility.condition(min_level), *filter_conditions(filters))


def sorted_tasks(statement, sort: str | None, visibility: Visibility):
    if not sort:
        return statement.order_by(Task.due_date.asc().nulls_last(), Task.id)  # the index's order on PostgreSQL
    return statement.order_by(*task_order(visibility, sort.lstrip("-"), sort.startswith("-")))


@dataclass(frozen=True)
class SeenTask:
    """A task with the viewer's level on it (what a surface may show of it)."""

    task: Task
    level: str


def list_tasks(viewer: User, filters: TaskFilters, page: int, per_page: int, sort: str | None = None) -> tuple[list[SeenTask], int]:
    visibility = Visibility.of(viewer)
    statement = visible_tasks(viewer, filters, visibility)
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.session.scalars(sorted_tasks(statement, sort, visibility).limit(per_page).offset((page - 1) * per_page)).unique().all()
    return seen(visibility, rows), total


def seen(visibility: Visibility, tasks: Sequence[Task]) -> list[SeenTask]:
    mine = visibility.participates_in([task.id for task in tasks]) if not visibility.everything else set()
    return [SeenTask(task, visibility.level_of(task, participant=task.id in mine)) for task in tasks]


# --- validating and saving a task ----------------------------------------------------------


def _check_user(user_id: int | None, field_name: str, problems: dict[str, str]) -> None:
    if user_id is None:
        return
    status = db.session.scalar(select(User.status).where(User.id == user_id))
    if status is None:
        problems[field_name] = Message("no user with id %(id)s", id=user_id)
    elif status != "active":
        problems[field_name] = Message("user %(id)s has departed", id=user_id)


def check_object(object_type: str | None, object_id: int | None, field_prefix: str = "") -> dict[str, str]:
    """Problems with a link to a record: both or neither, a registered type, an existing row."""
    if object_type is None and object_id is None:
        return {}
    if object_type is None or object_id is None:
        missing = "object_type" if object_type is None else "object_id"
        return {field_prefix + missing: Message("give object_type and object_id together (or neither)")}
    record_type = record_types().get(object_type)
    if record_type is None or object_type == "task":
        known = ", ".join(name for name in record_types().names() if name != "task")
        return {field_prefix + "object_type": Message("unknown record type %(type)r; one of: %(known)s", type=object_type, known=known)}
    if not 0 < object_id < 2**31 or db.session.get(record_type.model, object_id) is None:
        return {field_prefix + "object_id": Message("no %(type)s with id %(id)s", type=object_type, id=object_id)}
    return {}


NOT_NULL = ("title", "type_id", "responsible_id", "priority", "private", "done", "reminders", "participant_ids")


def validate_values(task: Task, values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: problem}`` for ``values`` applied to ``task`` (nothing is applied)."""
    problems: dict[str, str] = {field: Message("must not be null") for field in NOT_NULL if field in values and values[field] is None}
    if values.get("type_id") is not None:
        task_type = db.session.get(TaskType, values["type_id"]) if values["type_id"] < 2**31 else None
        if task_type is None:
            problems["type_id"] = Message("no task type with id %(id)s", id=values["type_id"])
        elif not task_type.active and values["type_id"] != task.type_id:
            problems["type_id"] = Message("the task type %(name)r is switched off", name=task_type.name)
    if values.get("status_id") is not None:
        if not settings()["statuses_enabled"]:
            problems["status_id"] = Message("task statuses are switched off (see /tasks/settings)")
        elif values["status_id"] >= 2**31 or db.session.get(TaskStatus, values["status_id"]) is None:
            problems["status_id"] = Message("no task status with id %(id)s", id=values["status_id"])
    if "responsible_id" in values:
        _check_user(values["responsible_id"], "responsible_id", problems)
    participants = values.get("participant_ids") or []
    if len(set(participants)) != len(participants):
        problems["participant_ids"] = Message("a user is named twice")
    elif len(participants) > MAX_PARTICIPANTS:
        problems["participant_ids"] = Message("at most %(count)s participants", count=MAX_PARTICIPANTS)
    elif participants:
        known = dict(db.session.execute(select(User.id, User.status).where(User.id.in_(participants))).all())
        unknown = [user_id for user_id in participants if user_id not in known]
        departed = [user_id for user_id in participants if known.get(user_id) == "departed"]
        if unknown:
            problems["participant_ids"] = Message("no users with ids %(ids)s", ids=unknown)
        elif departed:
            problems["participant_ids"] = Message("users %(ids)s have departed", ids=departed)
    if "object_type" in values or "object_id" in values:
        problems.update(check_object(values.get("object_type", task.object_type), values.get("object_id", task.object_id)))
    start = values["start"] if "start" in values else task.start
    end = values["end"] if "end" in values else task.end
    if end is not None and start is None:
        problems["end"] = Message("an end needs a start")
    elif start is not None and end is not None and end < start:
        problems["end"] = Message("must not be before start (%(start)s)", start=start.isoformat())
    reminders = values.get("reminders") or []
    if len(set(reminders)) != len(reminders):
        problems["reminders"] = Message("a reminder is given twice")
    return problems


def _apply(task: Task, values: Mapping[str, Any]) -> None:
    """Set validated values (participants and reminders have their own bookkeeping)."""
    for name, value in values.items():
        if name == "participant_ids":
            continue
        if name == "responsible_id":
            task.owner_id = value
        elif name == "reminders":
            task.reminders = sorted(value)
        else:
            setattr(task, name, value)
    if "start" in values and values["start"] is not None and "due_date" not in values:
        task.due_date = values["start"].astimezone(dt.UTC).date()
    if "done" in values:
        task.done_at = utcnow() if values["done"] else None


def _set_participants(task: Task, user_ids: Sequence[int]) -> None:
    """Replace the participants; each one added or removed is a change event."""
    before = set(task.participant_ids)
    after = set(user_ids)
    if before == after:
        return
    users = db.session.scalars(select(User).where(User.id.in_(after))).all() if after else []
    task.participants = sorted(users, key=lambda user: user.id)
    db.session.flush()
    for user_id in sorted(after - before):
        record_event(db.session, RecordChange("task", task.id, task.display_name, "participant_added",
                                              (FieldChange("participant_ids", None, user_id),)))
    for user_id in sorted(before - after):
        record_event(db.session, RecordChange("task", task.id, task.display_name, "participant_removed",
                                              (FieldChange("participant_ids", user_id, None),)))


def reminder_time(task: Task) -> dt.datetime | None:
    if task.start is not None:
        return task.start
    if task.due_date is not None:
        return dt.datetime.combine(task.due_date, DAY_REMINDER_TIME, tzinfo=dt.UTC)
    return None


def _sync_reminders(task: Task) -> None:
    """Keep ``task_reminders`` in line with the task's reminders and time (set-based)."""
    db.session.execute(delete(TaskReminder).where(TaskReminder.task_id == task.id))
    at = reminder_time(task)
    if at is None or task.done or not task.reminders:
        return
    db.session.execute(insert(TaskReminder), [
        {"task_id": task.id, "minutes_before": minutes, "remind_at": at - dt.timedelta(minutes=minutes), "sent_at": None}
        for minutes in task.reminders
    ])


def _save(task: Task, values: Mapping[str, Any], creating: bool) -> Task:
    _apply(task, values)
    if creating:
        db.session.add(task)
    db.session.flush()
    if "participant_ids" in values:
        _set_participants(task, values["participant_ids"])
    if creating or {"reminders", "start", "due_date", "done"} & set(values):
        _sync_reminders(task)
    return task


def may_assign_to(actor: User, responsible_id: int | None, type_id: int) -> bool:
    if responsible_id == actor.id or has_permission(actor, ASSIGN) or has_permission(actor, SEE_ALL):
        return True
    return Visibility.of(actor).scope_level(responsible_id, type_id) == "full"


def create_task(actor: User | None, values: Mapping[str, Any]) -> Task:
    """Create a task from API-shaped ``values``; the responsible defaults to ``actor``.

    Giving the task to someone else needs ``tasks.assign`` or full access to their tasks.
    """
    values = dict(values)
    values.setdefault("responsible_id", actor.id if actor else None)
    values.setdefault("participant_ids", [])
    values.setdefault("reminders", [])
    task = Task(created_by_id=actor.id if actor else None, priority="normal", private=False, done=False, reminders=[])
    problems = validate_values(task, values)
    if "title" not in values or "type_id" not in values:
        problems.update({name: Message("required") for name in ("title", "type_id") if name not in values})
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if actor is not None and not may_assign_to(actor, values["responsible_id"], values["type_id"]):
        raise Forbidden(Message("you may create tasks for another user only with full access to their tasks "
                                "or the permission %(permission)r", permission=ASSIGN), {"responsible_id": Message("not allowed")})
    return _save(task, values, creating=True)


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
        return {"title": self.title, "type_id": self.type_id, "due_date": self.due_date,
                "responsible_id": self.responsible_id, "object_type": self.object_type, "object_id": self.object_id}


@dataclass
class TaskChange:
    task: Task
    level: str
    proposed_next: list[ProposedTask] = field(default_factory=list)
    created_next: list[Task] = field(default_factory=list)


def update_task(actor: User, task_id: int, values: Mapping[str, Any]) -> TaskChange:
    """Change a task the actor has full access to; completing it proposes (or, for types
    in ``trigger`` mode, creates) the next tasks."""
    task, _ = visible_task(actor, task_id, "full")
    values = dict(values)
    problems = validate_values(task, values)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    completing = values.get("done") is True and not task.done
    _save(task, values, creating=False)
    level = Visibility.of(actor).level_of(task)
    change = TaskChange(task, level)
    if completing:
        proposals = next_tasks(task, utcnow().date())
        if task.type.next_mode == "trigger":
            change.created_next = [_save(Task(created_by_id=actor.id, priority="normal", private=False, done=False,
                                              reminders=[]), {**proposal.as_values(), "participant_ids": [],
                                                              "reminders": []}, creating=True)
                                   for proposal in proposals]
        else:
            change.proposed_next = proposals
    return change


def delete_task(actor: User, task_id: int) -> None:
    task, _ = visible_task(actor, task_id, "full")
    db.session.execute(delete(TaskReminder).where(TaskReminder.task_id == task.id))
    db.session.delete(task)
    db.session.flush()


# --- next-task proposals -------------------------------------------------------------------


def add_delay(day: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "days":
        return day + dt.timedelta(days=amount)
    if unit == "weeks":
        return day + dt.timedelta(weeks=amount)
    month_index = day.month - 1 + amount
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_tasks(task: Task, done_day: dt.date) -> list[ProposedTask]:
    """The tasks the type of ``task`` proposes once it is done, with draft due dates."""
    task_type = task.type
    base = done_day if task_type.next_delay_from == "done" or task.due_date is None else task.due_date
    due = add_delay(base, task_type.next_delay, task_type.next_delay_unit)
    return [ProposedTask(next_type.id, next_type.name, f"{next_type.name}: {task.title}"[:300], due, task.owner_id,
                         task.object_type, task.object_id)
            for next_type in task_type.next_types if next_type.active]


# --- task types and statuses ---------------------------------------------------------------


def _unique_name(model: type, name: str, own_id: int | None = None) -> None:
    other = db.session.scalar(select(model.id).where(func.lower(model.name) == name.lower()))
    if other is not None and other != own_id:
        raise Conflict(Message("the name %(name)r is already used", name=name), {"name": Message("already used")})


def save_task_type(actor: User, task_type: TaskType | None, values: Mapping[str, Any]) -> TaskType:
    require_permission(actor, CONFIGURE)
    creating = task_type is None
    task_type = task_type or TaskType(active=True, next_mode="suggest", next_delay=1, next_delay_unit="days",
                                      next_delay_from="done")
    values = dict(values)
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if "name" in values:
        _unique_name(TaskType, values["name"], task_type.id)
    next_ids = values.pop("next_type_ids", None)
    if next_ids is not None:
        found = db.session.scalars(select(TaskType).where(TaskType.id.in_(next_ids))).all() if next_ids else []
        unknown = sorted(set(next_ids) - {found_type.id for found_type in found})
        if unknown:
            raise Invalid(Message("some values are not valid"), {"next_type_ids": Message("no task types with ids %(ids)s", ids=unknown)})
    if creating and "position" not in values:
        values["position"] = (db.session.scalar(select(func.max(TaskType.position))) or 0) + 1
    for name, value in values.items():
        setattr(task_type, name, value)
    if creating:
        db.session.add(task_type)
    if next_ids is not None:
        by_id = {found_type.id: found_type for found_type in found}
        if creating and any(next_id not in by_id for next_id in next_ids):
            db.session.flush()
        task_type.next_types = [by_id[next_id] for next_id in dict.fromkeys(next_ids)]
    db.session.flush()
    return task_type


def save_task_status(actor: User, status: TaskStatus | None, values: Mapping[str, Any]) -> TaskStatus:
    require_permission(actor, CONFIGURE)
    creating = status is None
    status = status or TaskStatus(active=True)
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    if "name" in values:
        _unique_name(TaskStatus, values["name"], status.id)
    values = dict(values)
    if creating and "position" not in values:
        values["position"] = (db.session.scalar(select(func.max(TaskStatus.position))) or 0) + 1
    for name, value in values.items():
        setattr(status, name, value)
    if creating:
        db.session.add(status)
    db.session.flush()
    return status


# --- templates -----------------------------------------------------------------------------


def _template_problems(values: Mapping[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for object_type in values.get("object_types") or ():
        if object_type not in record_types() or object_type == "task":
            problems["object_types"] = Message("unknown record type %(type)r", type=object_type)
    for index, item in enumerate(values.get("items") or ()):
        task_type = db.session.get(TaskType, item["type_id"]) if item["type_id"] < 2**31 else None
        if task_type is None:
            problems[f"items.{index}.type_id"] = Message("no task type with id %(id)s", id=item["type_id"])
        if isinstance(item["responsible"], int):
            _check_user(item["responsible"], f"items.{index}.responsible", problems)
    return problems


def save_template(actor: User, template: TaskTemplate | None, values: Mapping[str, Any]) -> TaskTemplate:
    """Create or replace a template; ``items[].responsible`` is a user id, ``"ask"`` or
    ``"record_owner"``."""
    require_permission(actor, CONFIGURE)
    values = dict(values)
    if values.get("items"):
        values["items"] = [{"delay_days": 0, "responsible": "ask", **item} for item in values["items"]]
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    problems.update(_template_problems(values))
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    creating = template is None
    template = template or TaskTemplate(object_types=list(DEFAULT_TEMPLATE_TYPES))
    if "name" in values:
        _unique_name(TaskTemplate, values["name"], template.id)
        template.name = values["name"]
    if "object_types" in values:
        template.object_types = list(dict.fromkeys(values["object_types"]))
    if "items" in values:
        template.items = [
            TaskTemplateItem(position=position, title=item["title"], type_id=item["type_id"], delay_days=item["delay_days"],
                             responsible="user" if isinstance(item["responsible"], int) else item["responsible"],
                             user_id=item["responsible"] if isinstance(item["responsible"], int) else None)
            for position, item in enumerate(values["items"], start=1)
        ]
    if creating:
        db.session.add(template)
    db.session.flush()
    return template


def template_or_404(template_id: int) -> TaskTemplate:
    template = db.session.get(TaskTemplate, template_id) if 0 < template_id < 2**31 else None
    if template is None:
        raise NotFound(Message("no task template with id %(id)s", id=template_id))
    return template


def apply_template(actor: User | None, template: TaskTemplate, object_type: str, object_id: int,
                   responsible_id: int | None = None, *, today: dt.date | None = None,
                   check_rights: bool = True) -> list[Task]:
    """Create the template's tasks on a record, due ``delay_days`` after ``today`` (the day
    it is applied). ``responsible_id`` names who gets the items marked ``ask``."""
    problems = check_object(object_type, object_id)
    if problems:
        raise Invalid(Message("the record is not valid"), problems)
    if object_type not in (template.object_types or ()):
        types = ", ".join(template.object_types or ())
        applies_to = (Message("template %(name)r applies to: %(types)s", name=template.name, types=types) if types
                      else Message("template %(name)r applies to: nothing", name=template.name))
        raise Invalid(Message("the template does not apply to this record type"), {"object_type": applies_to})
    record_type = record_types().get(object_type)
    record = db.session.get(record_type.model, object_id)
    if check_rights and actor is not None:
        from opiekun.records import may_change

        if not may_change(actor, record_type, record, "update"):
            raise Forbidden(Message("you may not add tasks to this %(type)s: it belongs to another user", type=object_type))
    asks = any(item.responsible == "ask" for item in template.items)
    if responsible_id is not None:
        user_problems: dict[str, str] = {}
        _check_user(responsible_id, "responsible_id", user_problems)
        if user_problems:
            raise Invalid(Message("some values are not valid"), user_problems)
    elif asks and check_rights:
        raise Invalid(Message("the template asks who is responsible"),
                      {"responsible_id": Message("required: the template has items marked 'ask'")})
    today = today or utcnow().date()
    fallback = responsible_id or record.owner_id or (actor.id if actor else None)
    created = []
    for item in template.items:
        if item.responsible == "user":
            owner = item.user_id
            if db.session.scalar(select(User.status).where(User.id == owner)) != "active":
                owner = fallback
        elif item.responsible == "ask":
            owner = responsible_id or fallback
        else:
            owner = record.owner_id or fallback
        task = Task(created_by_id=actor.id if actor else None, priority="normal", private=False, done=False, reminders=[])
        created.append(_save(task, {"title": item.title, "type_id": item.type_id, "responsible_id": owner,
                                    "object_type": object_type, "object_id": object_id,
                                    "due_date": today + dt.timedelta(days=item.delay_days)}, creating=True))
    return created


def save_post_sale(actor: User, values: Mapping[str, Any]) -> PostSaleTemplate:
    require_permission(actor, CONFIGURE)
    problems: dict[str, str] = {}
    if db.session.get(Pipeline, values["pipeline_id"]) is None:
        problems["pipeline_id"] = Message("no pipeline with id %(id)s", id=values["pipeline_id"])
    template = db.session.get(TaskTemplate, values["template_id"])
    if template is None:
        problems["template_id"] = Message("no task template with id %(id)s", id=values["template_id"])
    elif "deal" not in (template.object_types or ()):
        problems["template_id"] = Message("template %(name)r does not apply to deals", name=template.name)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    existing = db.session.scalar(select(PostSaleTemplate.id).where(
        PostSaleTemplate.pipeline_id == values["pipeline_id"], PostSaleTemplate.outcome == values["outcome"]))
    if existing is not None:
        raise Conflict(Message("the pipeline already has a template for %(outcome)s deals (id %(id)s); delete it first",
                               outcome=values["outcome"], id=existing), {"outcome": Message("already set")})
    post_sale = PostSaleTemplate(pipeline_id=values["pipeline_id"], outcome=values["outcome"], template_id=values["template_id"])
    db.session.add(post_sale)
    db.session.flush()
    return post_sale


def delete_post_sale(actor: User, post_sale_id: int) -> None:
    require_permission(actor, CONFIGURE)
    post_sale = db.session.get(PostSaleTemplate, post_sale_id) if 0 < post_sale_id < 2**31 else None
    if post_sale is None:
        raise NotFound(Message("no post-sale template with id %(id)s", id=post_sale_id))
    db.session.delete(post_sale)
    db.session.flush()


def deal_closed(deal, outcome: str) -> list[Task]:
    """The pipeline's post-sale template for ``outcome``, applied to the deal (called by
    the core's deal-closed hook, inside the closing transaction)."""
    template = db.session.scalar(select(TaskTemplate).join(PostSaleTemplate, PostSaleTemplate.template_id == TaskTemplate.id)
                                 .where(PostSaleTemplate.pipeline_id == deal.pipeline_id, PostSaleTemplate.outcome == outcome))
    if template is None:
        return []
    actor_id = current_actor().user_id
    actor = db.session.get(User, actor_id) if actor_id else None
    return apply_template(actor, template, "deal", deal.id, None, check_rights=False)


# --- sharing -------------------------------------------------------------------------------


def list_shares(viewer: User, owner_id: int | None = None, grantee_id: int | None = None):
    statement = select(TaskShare).order_by(TaskShare.owner_id, TaskShare.grantee_id, TaskShare.task_type_id.is_not(None), TaskShare.task_type_id)
    if not has_permission(viewer, SHARE_OTHERS):
        statement = statement.where(or_(TaskShare.owner_id == viewer.id, TaskShare.grantee_id == viewer.id))
    if owner_id is not None:
        statement = statement.where(TaskShare.owner_id == owner_id)
    if grantee_id is not None:
        statement = statement.where(TaskShare.grantee_id == grantee_id)
    return statement


def set_share(actor: User, owner_id: int | None, grantee_id: int, task_type_id: int | None, level: str) -> tuple[TaskShare, bool]:
    """Share ``owner_id``'s tasks (one type or all) with ``grantee_id`` at ``level``;
    replaces the grant for the same scope. Users share their own tasks; holders of
    ``tasks.share_others`` (admins) anyone's. Returns the grant and whether it is new."""
    owner_id = owner_id or actor.id
    if owner_id != actor.id and not has_permission(actor, SHARE_OTHERS):
        raise Forbidden(Message("you may share only your own tasks"), {"owner_id": Message("not yours")})
    if level not in SHARING_LEVELS:
        raise Invalid(Message("unknown level"), {"level": Message("one of %(levels)s", levels=", ".join(SHARING_LEVELS))})
    problems: dict[str, str] = {}
    if db.session.get(User, owner_id) is None:
        problems["owner_id"] = Message("no user with id %(id)s", id=owner_id)
    _check_user(grantee_id, "grantee_id", problems)
    if owner_id == grantee_id:
        problems["grantee_id"] = Message("a user always sees their own tasks")
    if task_type_id is not None and db.session.get(TaskType, task_type_id) is None:
        problems["task_type_id"] = Message("no task type with id %(id)s", id=task_type_id)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    scope = TaskShare.task_type_id.is_(None) if task_type_id is None else TaskShare.task_type_id == task_type_id
    share = db.session.scalar(select(TaskShare).where(TaskShare.owner_id == owner_id, TaskShare.grantee_id == grantee_id, scope))
    created = share is None
    if created:
        share = TaskShare(owner_id=owner_id, grantee_id=grantee_id, task_type_id=task_type_id, level=level)
        db.session.add(share)
    else:
        share.level = level
    db.session.flush()
    return share, created


def delete_share(actor: User, share_id: int) -> None:
    share = db.session.get(TaskShare, share_id) if 0 < share_id < 2**31 else None
    if share is None or (share.owner_id != actor.id and share.grantee_id != actor.id and not has_permission(actor, SHARE_OTHERS)):
        raise NotFound(Message("no sharing grant with id %(id)s", id=share_id))
    if share.owner_id != actor.id and not has_permission(actor, SHARE_OTHERS):
        raise Forbidden(Message("only the owner of the tasks (or an admin) may withdraw a grant"))
    db.session.delete(share)
    db.session.flush()


# --- a user's tasks (offboarding) ------------------------------------------------------------


def count_user_tasks(user_id: int) -> tuple[int, int]:
    """How many tasks the user is responsible for: open, done."""
    open_count, done_count = db.session.execute(
        select(func.count().filter(Task.done.is_(False)), func.count().filter(Task.done.is_(True)))
        .select_from(Task).where(Task.owner_id == user_id)).one()
    return open_count or 0, done_count or 0


def transfer_user_tasks(session, from_user_id: int, to_user_id: int, include_closed: bool,
                        share: tuple[int, int] | None) -> int:
    """Give the user's tasks to ``to_user_id`` in one set-based UPDATE (with change events)."""
    selected = Task.owner_id == from_user_id
    if not include_closed:
        selected = and_(selected, Task.done.is_(False))
    if share is not None:
        selected = and_(selected, in_share(Task.id, selected, share))
    return update_records(session, Task, selected, {"owner_id": to_user_id})


def detach_from_deleted_records(session, deleted: Mapping[str, list[int]]) -> None:
    """Tasks on records that were deleted stay, on no record (one UPDATE per type)."""
    table = Task.__table__
    for object_type, ids in deleted.items():
        session.execute(update(table).where(table.c.object_type == object_type, table.c.object_id.in_(ids))
                        .values(object_type=None, object_id=None))


# --- reminders -----------------------------------------------------------------------------


def send_due_reminders(now: dt.datetime | None = None) -> int:
    """Notify the responsible users of reminders that are due, once each (set-based)."""
    from opiekun.models import Notification

    now = now or utcnow()
    due = and_(TaskReminder.sent_at.is_(None), TaskReminder.remind_at <= now)
    source = (select(Task.owner_id, literal("task_reminder"), literal("Przypomnienie: ") + Task.title, literal("task"),
                     Task.id, literal(now, type_=TaskReminder.remind_at.type))
              .join(TaskReminder, TaskReminder.task_id == Task.id)
              .where(due, Task.done.is_(False), Task.owner_id.is_not(None)))
    db.session.execute(insert(Notification).from_select(
        ["user_id", "kind", "message", "object_type", "object_id", "created_at"], source))
    result = db.session.execute(update(TaskReminder).where(due).values(sent_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- calendar tokens -----------------------------------------------------------------------


CALENDAR_SALT = "opiekun.tasks.calendar"


def _calendar_serializer():
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CALENDAR_SALT)


def calendar_generation(user_id: int) -> int:
    return db.session.scalar(select(CalendarKey.generation).where(CalendarKey.user_id == user_id)) or 1


def calendar_token(user: User) -> str:
    """A long-lived token for calendar apps: read-only, for the feeds only, revoked by
    :func:`rotate_calendar_token`, by a password change or by leaving."""
    return _calendar_serializer().dumps({"uid": user.id, "cal": calendar_generation(user.id), "gen": user.token_generation or 0})


def rotate_calendar_token(user: User) -> str:
    key = db.session.get(CalendarKey, user.id)
    if key is None:
        db.session.add(CalendarKey(user_id=user.id, generation=2))
    else:
        key.generation += 1
    db.session.flush()
    return calendar_token(user)


def user_for_calendar_token(token: str) -> User | None:
    """The active user holding the calendar token ``token``. Only calendar tokens: the
    token travels in the feed's URL (and so into access logs), and an API token there
    would open the whole API to whoever reads the logs."""
    from itsdangerous import BadSignature

    try:
        payload = _calendar_serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        return None
    user = db.session.get(User, payload["uid"])
    if (user is None or user.status != "active" or payload.get("gen") != (user.token_generation or 0)
            or payload.get("cal") != calendar_generation(user.id)):
        return None
    return user


#: The feed covers tasks from this many days back (and everything ahead), at most FEED_LIMIT.
FEED_DAYS_BACK = 180
FEED_LIMIT = 5000


def calendar_tasks(holder: User, owner_id: int) -> list[SeenTask]:
    """The tasks of ``owner_id`` the holder may see, for the feed (403 if none at all)."""
    visibility = Visibility.of(holder)
    if not visibility.may_see_calendar_of(owner_id):
        raise Forbidden(Message("this user's calendar is not shared with you"))
    since = utcnow().date() - dt.timedelta(days=FEED_DAYS_BACK)
    statement = (select(Task).where(visibility.condition("free_busy"), Task.owner_id == owner_id,
                                    or_(Task.due_date >= since, Task.start >= dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)))
                 .order_by(Task.due_date, Task.id).limit(FEED_LIMIT))
    return seen(visibility, db.session.scalars(statement).unique().all())
