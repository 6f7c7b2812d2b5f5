"""The tasks plugin's panels of the start page: the user's tasks for today and overdue,
whose tasks are shared with them and, for the team, overdue tasks per responsible user.
Each number links to the task list filtered to what it counts."""

from __future__ import annotations

import datetime as dt

from flask import url_for
from flask_babel import format_date, gettext
from sqlalchemy import func, select

from opiekun.plugin import User, db, user_label
from opiekun.plugin.admin import (
    SHOWN_ROWS,
    YES,
    DateBetweenFilter,
    Figure,
    HomeLink,
    HomePanel,
    OwnerIsFilter,
    panel_views,
    range_text,
    sees_team,
    user_today,
)
from opiekun.plugins.tasks.admin.task_columns import DoneFilter, OverdueFilter
from opiekun.plugins.tasks.admin.task_view import TaskView
from opiekun.plugins.tasks.models import Task, TaskShare

NOT_DONE = Task.done.is_(False)


def task_list() -> TaskView:
    """The panel's task list."""
    return next(view for view in panel_views() if isinstance(view, TaskView))


def my_tasks_panel(user: User, today: dt.date) -> HomePanel:
    """Today's and overdue tasks of the user: counts, and the most urgent ones listed."""
    tasks = task_list()
    mine = Task.owner_id == user.id
    due_today = db.session.scalar(select(func.count()).where(mine, NOT_DONE, Task.due_date == today))
    overdue = db.session.scalar(select(func.count()).where(mine, NOT_DONE, Task.due_date < today))
    urgent = db.session.scalars(
        select(Task).where(mine, NOT_DONE, Task.due_date <= today).order_by(Task.due_date, Task.id).limit(SHOWN_ROWS)
    ).all()
    return HomePanel(
        key="my-tasks",
        title=gettext("My tasks"),
        figures=[
            Figure(
                gettext("Due today"),
                due_today,
                tasks.filtered_url(
                    (OwnerIsFilter, user.id), (DateBetweenFilter, range_text(today, today)), (DoneFilter, "0")
                ),
            ),
            Figure(
                gettext("Overdue"),
                overdue,
                tasks.filtered_url((OwnerIsFilter, user.id), (OverdueFilter, YES)),
                "danger",
            ),
        ],
        links=[
            HomeLink(
                task.title,
                url_for("task.details_view", id=task.id),
                format_date(task.due_date, "medium"),
                "danger" if task.due_date < today else "default",
            )
            for task in urgent
        ],
        empty=gettext("Nothing due today and nothing overdue."),
        more_url=tasks.filtered_url((OwnerIsFilter, user.id), (DoneFilter, "0")),
        more_text=gettext("All my open tasks"),
        order=20,
    )


def shared_with_me_panel(user: User) -> HomePanel:
    """Whose tasks are shared with the user (grants others made), linked to the list of them."""
    owners = db.session.scalar(
        select(func.count(func.distinct(TaskShare.owner_id))).where(
            TaskShare.grantee_id == user.id, TaskShare.owner_id != user.id
        )
    )
    return HomePanel(
        key="shared-with-me",
        title=gettext("Shared with you"),
        figures=[Figure(gettext("Colleagues sharing their tasks"), owners, url_for("task_sharing.index_view"))],
        empty=gettext("Nobody shares their tasks with you."),
        order=40,
    )


def team_overdue_panel(today: dt.date) -> HomePanel:
    """Overdue tasks across the team: how many, and per responsible user (the most first)."""
    tasks = task_list()
    overdue = NOT_DONE, Task.due_date < today
    total = db.session.scalar(select(func.count()).where(*overdue))
    per_user = db.session.execute(
        select(Task.owner_id, func.count())
        .where(*overdue, Task.owner_id.is_not(None))
        .group_by(Task.owner_id)
        .order_by(func.count().desc(), Task.owner_id)
        .limit(SHOWN_ROWS)
    ).all()
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_([r[0] for r in per_user])))}
    return HomePanel(
        key="team-overdue",
        title=gettext("The team's overdue tasks"),
        figures=[Figure(gettext("Overdue"), total, tasks.filtered_url((OverdueFilter, YES)), "danger")],
        links=[
            HomeLink(
                user_label(users[owner_id]),
                tasks.filtered_url((OwnerIsFilter, owner_id), (OverdueFilter, YES)),
                str(count),
                "danger",
            )
            for owner_id, count in per_user
        ],
        empty=gettext("No task is overdue."),
        team=True,
        order=130,
    )


def home_panels(user: User) -> list[HomePanel]:
    """The plugin's panels for ``user`` (team panels are shown by the core to whom may see them)."""
    today = user_today()
    panels = [my_tasks_panel(user, today), shared_with_me_panel(user)]
    if sees_team(user):
        panels.append(team_overdue_panel(today))
    return panels
