"""Who sees which task, and how much.

Visibility is :class:`Visibility`: built once per request from the viewer's sharing grants
(one indexed query), it yields a set-based SQL condition for lists and the level of each
row for what the row may show.

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, and_, bindparam, literal, or_, select, text, true

from opiekun.plugin import Message, NotFound, Refused, User, db, get_by_id, has_permission
from opiekun.plugins.tasks.models import SHARING_LEVELS, Task, TaskShare, task_participants
from opiekun.plugins.tasks.permissions import SEE_ALL
from opiekun.plugins.tasks.services.wording import level_label

LEVEL_RANK = {level: rank for rank, level in enumerate(SHARING_LEVELS)}
#: Above this many participations the visibility rule uses a subquery instead of a list.
PARTICIPATION_LIST_LIMIT = 2000
#: How many written visibility conditions are kept (:meth:`Visibility.condition`).
CONDITION_CACHE_SIZE = 2000
_condition_sql: dict[tuple, str] = {}
#: Fields a free/busy viewer sees.
BUSY_FIELDS = ("id", "responsible_id", "start", "end", "due_date")


def at_least(level: str, needed: str) -> bool:
    """Whether ``level`` grants what ``needed`` does (levels are ordered weakest first)."""
    return LEVEL_RANK[level] >= LEVEL_RANK[needed]


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
        """The visibility of ``viewer``: everything with ``tasks.see_all``, else their grants."""
        if has_permission(viewer, SEE_ALL.name):
            return cls(viewer.id, everything=True)
        visibility = cls(viewer.id)
        rows = db.session.execute(
            select(TaskShare.owner_id, TaskShare.task_type_id, TaskShare.level).where(TaskShare.grantee_id == viewer.id)
        )
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
        """The viewer's level on ``task`` (``participant``: whether they take part, if known)."""
        level = self.scope_level(task.owner_id, task.type_id)
        if level == "full" and (self.everything or task.owner_id == self.viewer_id):
            return level
        if task.private and at_least(level, "read"):
            level = "free_busy"
        if participant is None:
            participant = self.viewer_id in task.participant_ids
        if (participant or task.created_by_id == self.viewer_id) and not at_least(level, "read"):
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

        The condition is one SQL fragment, written once for the same viewer, grants and
        participations (:data:`CONDITION_CACHE_SIZE` are kept): a page runs it three times
        (rows, estimate, count), and building and writing fifty grants each time cost more
        than the queries.
        """
        if self.everything:
            return true()
        participations = self.participations()
        dialect = db.session.get_bind().dialect
        key = (
            dialect.name,
            min_level,
            self.viewer_id,
            tuple(sorted(self.general.items())),
            tuple(sorted(self.specific.items())),
            tuple(participations) if isinstance(participations, list) else None,
        )
        sql = _condition_sql.get(key)
        if sql is None:
            if len(_condition_sql) >= CONDITION_CACHE_SIZE:
                _condition_sql.clear()
            expression = self._condition_expression(min_level)
            sql = _condition_sql[key] = str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        return text(f"({sql})")

    def _condition_expression(self, min_level: str):
        """:meth:`condition` as a SQLAlchemy expression."""
        shared = []
        whole_owners = []
        owners = set(self.general) | {owner for owner, _ in self.specific}
        for owner in sorted(owners):
            general_ok = at_least(self.general.get(owner, "none"), min_level)
            per_type = {type_id: level for (owner_id, type_id), level in self.specific.items() if owner_id == owner}
            if general_ok:
                excluded = sorted(type_id for type_id, level in per_type.items() if not at_least(level, min_level))
                if excluded:
                    shared.append(and_(Task.owner_id == _inline(owner), Task.type_id.not_in(_inline_list(excluded))))
                else:
                    whole_owners.append(owner)
            else:
                included = sorted(type_id for type_id, level in per_type.items() if at_least(level, min_level))
                if included:
                    shared.append(and_(Task.owner_id == _inline(owner), Task.type_id.in_(_inline_list(included))))
        if whole_owners:
            shared.append(Task.owner_id.in_(_inline_list(whole_owners)))
        viewer = _inline(self.viewer_id)
        parts = [Task.owner_id == viewer]
        if shared:
            shared_condition = or_(*shared)
            if at_least(min_level, "read"):  # others' private tasks are only ever free/busy
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
        """Whether any grant lets the viewer see ``owner_id``'s calendar."""
        if self.everything or owner_id == self.viewer_id:
            return True
        return self.general.get(owner_id, "none") != "none" or any(
            owner == owner_id and level != "none" for (owner, _), level in self.specific.items()
        )


def _inline(value: int):
    """An integer written into the SQL text (see :meth:`Visibility.condition`)."""
    return literal(int(value), Integer, literal_execute=True)


def _inline_list(values: Sequence[int]):
    return bindparam(None, [int(value) for value in values], type_=Integer, expanding=True, literal_execute=True)


def participation_of(viewer_id: int, task_ids: Sequence[int]) -> set[int]:
    """Which of ``task_ids`` the viewer takes part in (one query for a page of tasks)."""
    if not task_ids:
        return set()
    return set(
        db.session.scalars(
            select(task_participants.c.task_id).where(
                task_participants.c.user_id == viewer_id, task_participants.c.task_id.in_(task_ids)
            )
        )
    )


def no_task(task_id: int) -> Message:
    """The refusal for a task that does not exist or that the viewer may not see: the same
    words for both, so the answer does not reveal which."""
    return Message("no task with id %(id)s", id=task_id)


def visible_task(viewer: User, task_id: int, needed: str = "free_busy") -> tuple[Task, str]:
    """The task and the viewer's level on it; 404 when it is invisible, 403 when the
    viewer sees it but below ``needed`` (``full`` is asked for a change: the task is then
    loaded for it, locked, with its current values — :func:`opiekun.lookups.load_for_change` —
    so concurrent changes run one after the other)."""
    task = get_by_id(Task, task_id, no_task(task_id), for_change=needed == "full")
    level = Visibility.of(viewer).level_of(task)
    if level == "none":
        raise NotFound(no_task(task_id))
    if not at_least(level, needed):
        raise Refused(
            Message(
                "your access to this task is %(level)r; this needs %(needed)r",
                level=level_label(level),
                needed=level_label(needed),
            )
        )
    return task, level
