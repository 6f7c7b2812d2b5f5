"""What the tasks API accepts and answers, as pydantic models: the same declarations
validate requests and describe the routes in ``/api/v1/openapi.json``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, RootModel, StrictBool

from opiekun.plugin.api import Day, InputModel, OutputModel, Page, PageQuery, QueryId, QueryModel, RecordId, Text

Level = Literal["none", "free_busy", "read", "full"]
Priority = Literal["low", "normal", "high"]
Outcome = Literal["won", "lost"]
NextMode = Literal["suggest", "trigger"]
DelayUnit = Literal["days", "weeks", "months"]
DelayFrom = Literal["done", "due"]
ObjectType = Text(50, min_length=1)
Title = Text(300, min_length=1)
TypeName = Text(100, min_length=1)
#: Delays and reminders are bounded: ten years, four weeks.
Delay = Annotated[int, Field(ge=0, le=3650, strict=True)]
ReminderMinutes = Annotated[int, Field(ge=0, le=40320, strict=True)]


def _sane_year(value: dt.datetime) -> dt.datetime:
    if not 1900 <= value.year <= 2999:
        raise ValueError("the year must be between 1900 and 2999")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_sane_year)]


# --- tasks ---------------------------------------------------------------------------------


class TaskFields(InputModel):
    description: Text(5000) | None = None
    status_id: RecordId | None = Field(None, description="only when statuses are switched on (/tasks/settings)")
    object_type: ObjectType | None = Field(
        None, description="the record the task is on (company, person, lead, deal, …)"
    )
    object_id: RecordId | None = None
    responsible_id: RecordId | None = Field(None, description="defaults to you on create")
    participant_ids: list[RecordId] | None = Field(None, max_length=50)
    start: Moment | None = Field(None, description="an appointment's start (with timezone); sets due_date to its day")
    end: Moment | None = Field(None, description="not before start")
    due_date: Day | None = None
    priority: Priority | None = None
    private: StrictBool | None = Field(None, description="others see a private task only as busy time")
    reminders: list[ReminderMinutes] | None = Field(None, max_length=10, description="minutes before the task's time")
    done: StrictBool | None = Field(None, description="true completes the task; the answer proposes the next ones")


class TaskCreate(TaskFields):
    title: Title
    type_id: RecordId


class TaskUpdate(TaskFields):
    title: Title | None = None
    type_id: RecordId | None = None


class TaskOut(OutputModel):
    """A task seen at ``read`` or ``full`` level (``access``)."""

    id: int
    title: str
    description: str | None
    type_id: int
    status_id: int | None
    object_type: str | None
    object_id: int | None
    responsible_id: int | None
    participant_ids: list[int]
    start: dt.datetime | None
    end: dt.datetime | None
    due_date: dt.date | None
    priority: str
    private: bool
    reminders: list[int]
    done: bool
    done_at: dt.datetime | None
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    access: Literal["read", "full"]


class BusyTaskOut(OutputModel):
    """A task seen at ``free_busy`` level: only that the time is taken."""

    id: int
    responsible_id: int | None
    start: dt.datetime | None
    end: dt.datetime | None
    due_date: dt.date | None
    busy: Literal[True] = True
    access: Literal["free_busy"] = "free_busy"


AnyTaskOut = TaskOut | BusyTaskOut


class ProposedTaskOut(OutputModel):
    """A draft of the next task: send it to ``POST /tasks`` to accept it."""

    type_id: int
    type_name: str
    title: str
    due_date: dt.date
    responsible_id: int | None
    object_type: str | None
    object_id: int | None


class TaskChangeOut(TaskOut):
    proposed_next: list[ProposedTaskOut] = Field(default_factory=list, description="after completing: tasks to propose")
    created_next: list[TaskOut] = Field(
        default_factory=list, description="after completing: tasks created at once (types in trigger mode)"
    )


class OneTaskOut(RootModel[AnyTaskOut]):
    """One task: all of it (``read``/``full``), or only its time (``free_busy``)."""


class ChangedTaskOut(RootModel[TaskChangeOut | BusyTaskOut]):
    """The changed task (with the next tasks after completing it)."""


class TaskPage(Page[AnyTaskOut]):
    """A page of tasks."""


ResponsibleFilter = Annotated[str, Field(pattern=r"^(none|[1-9][0-9]{0,9})$")]


class TaskListQuery(PageQuery):
    responsible_id: ResponsibleFilter | None = Field(None, description="a user id, or `none`")
    type_id: QueryId | None = None
    status_id: QueryId | None = None
    object_type: ObjectType | None = None
    object_id: QueryId | None = None
    done: bool | None = None
    overdue: bool | None = Field(None, description="not done and due before today")
    due_from: Day | None = None
    due_to: Day | None = None
    priority: Priority | None = None
    private: bool | None = None
    participant_id: QueryId | None = None
    q: Text(200) | None = Field(None, description="search in titles and descriptions")
    sort: Annotated[str, Field(pattern=r"^-?[a-z_]{1,40}$")] | None = Field(
        None,
        description="due_date (default), start, created_at, updated_at, priority, title, done; `-` for descending; "
        "what a free/busy entry hides never orders it",
    )


# --- settings, types, statuses -------------------------------------------------------------


class TaskSettingsOut(OutputModel):
    statuses_enabled: bool


class TaskSettingsUpdate(InputModel):
    statuses_enabled: StrictBool


class TaskTypeFields(InputModel):
    active: StrictBool | None = None
    position: Annotated[int, Field(ge=0, le=100000, strict=True)] | None = None
    next_type_ids: list[RecordId] | None = Field(
        None, max_length=20, description="types proposed when a task of this type is done"
    )
    next_mode: NextMode | None = Field(None, description="suggest (the user confirms) or trigger (created at once)")
    next_delay: Delay | None = Field(None, description="the next task's due date: this many units after…")
    next_delay_unit: DelayUnit | None = None
    next_delay_from: DelayFrom | None = Field(None, description="…the day the task was done, or its due date")


class TaskTypeCreate(TaskTypeFields):
    name: TypeName


class TaskTypeUpdate(TaskTypeFields):
    name: TypeName | None = None


class TaskTypeOut(OutputModel):
    id: int
    name: str
    active: bool
    position: int
    next_type_ids: list[int]
    next_mode: str
    next_delay: int
    next_delay_unit: str
    next_delay_from: str


class TaskTypePage(Page[TaskTypeOut]):
    """A page of task types."""


class ActiveQuery(PageQuery):
    active: bool | None = None


class TaskStatusCreate(InputModel):
    name: TypeName
    active: StrictBool | None = None
    position: Annotated[int, Field(ge=0, le=100000, strict=True)] | None = None


class TaskStatusUpdate(InputModel):
    name: TypeName | None = None
    active: StrictBool | None = None
    position: Annotated[int, Field(ge=0, le=100000, strict=True)] | None = None


class TaskStatusOut(OutputModel):
    id: int
    name: str
    active: bool
    position: int


class TaskStatusPage(Page[TaskStatusOut]):
    """A page of task statuses."""

    statuses_enabled: bool


# --- templates -----------------------------------------------------------------------------


Responsible = RecordId | Literal["ask", "record_owner"]


class TemplateItemIn(InputModel):
    title: Title
    type_id: RecordId
    delay_days: Delay = Field(0, description="due this many days after the day the template is applied")
    responsible: Responsible = Field("ask", description="a user id, `ask` (named when applying) or `record_owner`")


class TemplateCreate(InputModel):
    name: Text(200, min_length=1)
    object_types: list[ObjectType] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="record types it applies to (default person, company, lead, deal)",
    )
    items: list[TemplateItemIn] = Field(min_length=1, max_length=100)


class TemplateUpdate(InputModel):
    name: Text(200, min_length=1) | None = None
    object_types: list[ObjectType] | None = Field(None, min_length=1, max_length=50)
    items: list[TemplateItemIn] | None = Field(None, min_length=1, max_length=100)


class TemplateItemOut(OutputModel):
    id: int
    title: str
    type_id: int
    delay_days: int
    responsible: int | str


class TemplateOut(OutputModel):
    id: int
    name: str
    object_types: list[str]
    items: list[TemplateItemOut]


class TemplatePage(Page[TemplateOut]):
    """A page of task templates."""


class ApplyTemplate(InputModel):
    object_type: ObjectType
    object_id: RecordId
    responsible_id: RecordId | None = Field(
        None, description="who gets the items marked `ask` (required when there are any)"
    )


class AppliedOut(OutputModel):
    created: list[TaskOut]


class PostSaleCreate(InputModel):
    pipeline_id: RecordId
    outcome: Outcome
    template_id: RecordId


class PostSaleOut(OutputModel):
    id: int
    pipeline_id: int
    outcome: str
    template_id: int


class PostSalePage(Page[PostSaleOut]):
    """A page of post-sale templates."""


class PostSaleQuery(PageQuery):
    pipeline_id: QueryId | None = None
    outcome: Outcome | None = None


# --- sharing and calendar ------------------------------------------------------------------


class ShareCreate(InputModel):
    owner_id: RecordId | None = Field(None, description="whose tasks (default: yours; others' need tasks.share_others)")
    grantee_id: RecordId
    task_type_id: RecordId | None = Field(None, description="null: every task type")
    level: Level


class ShareOut(OutputModel):
    id: int
    owner_id: int
    grantee_id: int
    task_type_id: int | None
    level: str
    created_at: dt.datetime


class SharePage(Page[ShareOut]):
    """A page of sharing grants."""


class ShareQuery(PageQuery):
    owner_id: QueryId | None = None
    grantee_id: QueryId | None = None


class CalendarTokenOut(OutputModel):
    token: str
    url: str = Field(description="your own feed; replace the user id to subscribe to a colleague's shared calendar")


class CalendarQuery(QueryModel):
    token: Text(1000, min_length=1)
