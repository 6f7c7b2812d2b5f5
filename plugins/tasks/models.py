"""The tables of the tasks plugin.

Imported only inside the plugin's hooks, so a deployment with ``tasks`` switched off has
none of these tables.

A :class:`Task` is a CRM record (``object_type`` ``task``): it mixes in
:class:`opiekun.models.RecordMixin`, whose ``owner_id`` is **the user responsible for the
task**, stored in the column ``responsible_id`` (the API's name too). Because of that one
choice the core's generic machinery treats tasks like every other record: the change
stream (and so audit) sees every column change, offboarding previews count a user's tasks
and transfers move them with one set-based ``UPDATE`` (see the plugin's
``opiekun_user_items`` notes).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from opiekun.plugin import RecordMixin, User, UTCDateTime, db, enum_check, utcnow

#: Sharing levels, weakest first: the order is what "at least" means.
SHARING_LEVELS = ("none", "free_busy", "read", "full")
PRIORITIES = ("low", "normal", "high")
OUTCOMES = ("won", "lost")
#: What to do when a task of a type is done: propose the next tasks, or create them at once.
NEXT_MODES = ("suggest", "trigger")
DELAY_UNITS = ("days", "weeks", "months")
#: The next task's due date counts from the day the task was done, or from its own date.
DELAY_FROM = ("done", "due")

DEFAULT_TYPES = ("E-mail", "Telefon", "Oferta", "Projekt", "Spotkanie", "Spotkanie online")
DEFAULT_STATUSES = ("Do zrobienia", "W toku", "Wstrzymane")


class TaskType(db.Model):
    """A kind of task (E-mail, Telefon…) and what to propose after one is done."""

    __tablename__ = "task_types"
    __table_args__ = (
        enum_check("next_mode", NEXT_MODES),
        enum_check("next_delay_unit", DELAY_UNITS),
        enum_check("next_delay_from", DELAY_FROM),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    next_mode: Mapped[str] = mapped_column(String(10), default="suggest")
    next_delay: Mapped[int] = mapped_column(Integer, default=1)
    next_delay_unit: Mapped[str] = mapped_column(String(10), default="days")
    next_delay_from: Mapped[str] = mapped_column(String(10), default="done")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    next_types: Mapped[list[TaskType]] = relationship(
        secondary="task_type_next",
        primaryjoin="TaskType.id == task_type_next.c.type_id",
        secondaryjoin="TaskType.id == task_type_next.c.next_type_id",
        order_by="TaskType.position, TaskType.id",
    )

    @property
    def next_type_ids(self) -> list[int]:
        return [next_type.id for next_type in self.next_types]

    def __str__(self) -> str:
        return self.name


task_type_next = db.Table(
    "task_type_next",
    db.Column("type_id", ForeignKey("task_types.id", ondelete="CASCADE"), primary_key=True),
    db.Column("next_type_id", ForeignKey("task_types.id", ondelete="CASCADE"), primary_key=True),
)


class TaskStatus(db.Model):
    """An optional status of a task (used when the setting ``statuses_enabled`` is on)."""

    __tablename__ = "task_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return self.name


task_participants = db.Table(
    "task_participants",
    db.Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", ForeignKey("users.id"), primary_key=True),
    # "the tasks I take part in", for the visibility rule
    Index("ix_task_participants_user_id", "user_id", "task_id"),
)


class Task(RecordMixin, db.Model):
    """Something to do, on a record (any registered type) or on none.

    A task has a day (``due_date``) and, when it is an appointment, a time
    (``start`` / ``end``); ``due_date`` is then the start's day (UTC).
    """

    __tablename__ = "tasks"
    __object_type__ = "task"
    __table_args__ = (
        enum_check("priority", PRIORITIES),
        # a user's task list and calendar: tasks of a responsible user, by type and day
        # ("owner_id" is the key of the column responsible_id, see below)
        Index("ix_tasks_responsible_type_due", "owner_id", "type_id", "due_date"),
        Index("ix_tasks_object", "object_type", "object_id"),
        Index("ix_tasks_done_due", "done", "due_date"),
        # tasks a user gave to others (their author keeps read access)
        Index("ix_tasks_created_by_id", "created_by_id"),
        # lists in due-date order (and day ranges of the calendar)
        Index("ix_tasks_due_date_id", "due_date", "id"),
    )

    #: The user responsible for the task. The column is ``responsible_id``; its key and the
    #: attribute stay ``owner_id``, the name every record's owner has in the change stream
    #: (and so in the history) and in the core's record machinery.
    owner_id: Mapped[int | None] = mapped_column("responsible_id", ForeignKey("users.id"), key="owner_id", index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    type_id: Mapped[int] = mapped_column(ForeignKey("task_types.id"), index=True)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("task_statuses.id"))
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    #: minutes before the task's time (start, else 9:00 UTC of its day) to remind, e.g. [15, 1440]
    reminders: Mapped[list[int]] = mapped_column(JSON, default=list)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    type: Mapped[TaskType] = relationship()
    status: Mapped[TaskStatus | None] = relationship()
    participants: Mapped[list[User]] = relationship(secondary=task_participants, order_by=User.id)

    #: The responsible user under the API's (and the column's) name.
    responsible_id = synonym("owner_id")

    @property
    def participant_ids(self) -> list[int]:
        return [user.id for user in self.participants]

    @property
    def display_name(self) -> str:
        return self.title or f"task #{self.id}"

    @classmethod
    def display_name_expression(cls):
        return cls.title


class TaskReminder(db.Model):
    """When to remind about a task: one row per entry of ``Task.reminders``, kept by the
    services, so the reminder job finds what is due with one indexed query."""

    __tablename__ = "task_reminders"
    __table_args__ = (Index("ix_task_reminders_due", "sent_at", "remind_at"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    minutes_before: Mapped[int] = mapped_column(Integer, primary_key=True)
    remind_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class TaskShare(db.Model):
    """``owner`` shares their tasks (of one type, or of all types when ``task_type_id`` is
    null) with ``grantee`` at ``level``. A per-type grant wins over the all-types one."""

    __tablename__ = "task_shares"
    __table_args__ = (
        enum_check("level", SHARING_LEVELS),
        UniqueConstraint("owner_id", "grantee_id", "task_type_id", name="uq_task_shares_owner_grantee_type"),
        # what a grantee may see: one indexed lookup per request
        Index("ix_task_shares_grantee", "grantee_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grantee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    task_type_id: Mapped[int | None] = mapped_column(ForeignKey("task_types.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    grantee: Mapped[User] = relationship(foreign_keys=[grantee_id])
    task_type: Mapped[TaskType | None] = relationship()


class TaskTemplate(db.Model):
    """A named list of tasks to create on a record in one step."""

    __tablename__ = "task_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: record types the template may be applied to
    object_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[TaskTemplateItem]] = relationship(
        back_populates="template", order_by="TaskTemplateItem.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class TaskTemplateItem(db.Model):
    """One task of a template. ``responsible``: ``user`` (``user_id``), ``ask`` (named when
    the template is applied) or ``record_owner`` (the owner of the record)."""

    __tablename__ = "task_template_items"
    __table_args__ = (enum_check("responsible", ("user", "ask", "record_owner")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("task_templates.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    type_id: Mapped[int] = mapped_column(ForeignKey("task_types.id"))
    delay_days: Mapped[int] = mapped_column(Integer, default=0)
    responsible: Mapped[str] = mapped_column(String(20), default="ask")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    template: Mapped[TaskTemplate] = relationship(back_populates="items")
    type: Mapped[TaskType] = relationship()


class PostSaleTemplate(db.Model):
    """The template applied to a deal of ``pipeline`` when it is won or lost."""

    __tablename__ = "task_post_sale_templates"
    __table_args__ = (
        enum_check("outcome", OUTCOMES),
        UniqueConstraint("pipeline_id", "outcome", name="uq_task_post_sale_templates_pipeline_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(10))
    template_id: Mapped[int] = mapped_column(ForeignKey("task_templates.id", ondelete="CASCADE"))

    template: Mapped[TaskTemplate] = relationship()


class CalendarKey(db.Model):
    """The generation of a user's calendar-feed token; bumping it revokes the old links."""

    __tablename__ = "task_calendar_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
