"""The tasks API under ``/api/v1`` and the calendar feed under ``/calendar``.

Thin handlers: every rule (validation, sharing levels, who may configure) lives in
:mod:`opiekun.plugins.tasks.services`. Every route is declared with
``opiekun.api.spec.validate``, so it is validated and listed in ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select

from opiekun.plugin import MAX_ID, Invalid, Message, User, db, get_by_id, page_of
from opiekun.plugin.api import (
    API_PREFIX,
    PageQuery,
    Unauthorized,
    current_api_user,
    page_answer,
    paginate,
    request_body,
    request_query,
    validate,
)
from opiekun.plugins.tasks.calendar_feed import feed_of, feed_url
from opiekun.plugins.tasks.models import (
    PostSaleTemplate,
    TaskStatus,
    TaskTemplate,
    TaskType,
)
from opiekun.plugins.tasks.permissions import CONFIGURE
from opiekun.plugins.tasks.schemas import (
    ActiveQuery,
    AppliedOut,
    ApplyTemplate,
    BusyTaskOut,
    CalendarQuery,
    CalendarTokenOut,
    ChangedTaskOut,
    OneTaskOut,
    PostSaleCreate,
    PostSaleOut,
    PostSalePage,
    PostSaleQuery,
    ProposedTaskOut,
    ShareCreate,
    ShareOut,
    SharePage,
    ShareQuery,
    TaskChangeOut,
    TaskCreate,
    TaskListQuery,
    TaskOut,
    TaskPage,
    TaskSettingsOut,
    TaskSettingsUpdate,
    TaskStatusCreate,
    TaskStatusOut,
    TaskStatusPage,
    TaskStatusUpdate,
    TaskTypeCreate,
    TaskTypeOut,
    TaskTypePage,
    TaskTypeUpdate,
    TaskUpdate,
    TemplateCreate,
    TemplateOut,
    TemplatePage,
    TemplateUpdate,
)
from opiekun.plugins.tasks.services import calendar, configuration, sharing, task_lists, tasks, templates
from opiekun.plugins.tasks.services.visibility import BUSY_FIELDS, Visibility, visible_task

TASKS = ["Tasks"]
CONFIGURATION = ["Task configuration"]
SHARING = ["Task sharing"]

TASK_FIELDS = (
    "id",
    "title",
    "description",
    "type_id",
    "status_id",
    "object_type",
    "object_id",
    "responsible_id",
    "participant_ids",
    "start",
    "end",
    "due_date",
    "priority",
    "private",
    "reminders",
    "done",
    "done_at",
    "created_by_id",
    "created_at",
    "updated_at",
)


def task_out(task, level: str) -> TaskOut | BusyTaskOut:
    """The task as ``level`` may see it: free/busy shows only its time."""
    if level == "free_busy":
        return BusyTaskOut(**{name: getattr(task, name) for name in BUSY_FIELDS})
    return TaskOut(**{name: getattr(task, name) for name in TASK_FIELDS}, access=level)


def filters_of(query: TaskListQuery) -> task_lists.TaskFilters:
    if query.responsible_id not in (None, "none") and int(query.responsible_id) > MAX_ID:
        raise Invalid(Message("some values are not valid"), {"responsible_id": Message("no such user")})
    values = query.model_dump(exclude={"page", "per_page", "sort", "responsible_id"})
    return task_lists.TaskFilters(
        responsible_id=int(query.responsible_id) if query.responsible_id not in (None, "none") else None,
        responsible_none=query.responsible_id == "none",
        **values,
    )


# --- tasks ---------------------------------------------------------------------------------


@validate(query=TaskListQuery, answers={200: TaskPage}, tags=TASKS, operation_id="list_tasks")
def list_tasks():
    query = request_query()
    rows, total = task_lists.list_tasks(current_api_user(), filters_of(query), query.page, query.per_page, query.sort)
    return page_answer(TaskPage, [task_out(row.task, row.level) for row in rows], total, query)


@validate(json=TaskCreate, answers={201: TaskOut}, tags=TASKS, operation_id="create_task")
def create_task():
    task = tasks.create_task(current_api_user(), request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return task_out(task, Visibility.of(current_api_user()).level_of(task)), 201


@validate(answers={200: OneTaskOut}, tags=TASKS, operation_id="get_task")
def get_task(task_id: int):
    task, level = visible_task(current_api_user(), task_id)
    return OneTaskOut(task_out(task, level))


@validate(json=TaskUpdate, answers={200: ChangedTaskOut}, tags=TASKS, operation_id="update_task")
def update_task(task_id: int):
    change = tasks.update_task(current_api_user(), task_id, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    seen = task_out(change.task, change.level)
    extra = {
        "proposed_next": [ProposedTaskOut(**vars(proposal)) for proposal in change.proposed_next],
        "created_next": [task_out(task, "full") for task in change.created_next],
    }
    if isinstance(seen, BusyTaskOut):  # the change moved the task out of the caller's sight
        return ChangedTaskOut(seen)
    return ChangedTaskOut(TaskChangeOut(**seen.model_dump(), **extra))


@validate(answers={204: None}, tags=TASKS, operation_id="delete_task")
def delete_task(task_id: int):
    tasks.delete_task(current_api_user(), task_id)
    db.session.commit()
    return "", 204


@validate(answers={200: TaskSettingsOut}, tags=CONFIGURATION, operation_id="get_task_settings")
def get_settings():
    return TaskSettingsOut(**configuration.settings())


@validate(
    json=TaskSettingsUpdate,
    answers={200: TaskSettingsOut},
    tags=CONFIGURATION,
    operation_id="update_task_settings",
    permission=CONFIGURE.name,
)
def update_settings():
    values = configuration.change_settings(current_api_user(), request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TaskSettingsOut(**values)


def _calendar_token_answer(token: str) -> CalendarTokenOut:
    return CalendarTokenOut(token=token, url=feed_url(current_api_user().id, token))


@validate(answers={200: CalendarTokenOut}, tags=TASKS, operation_id="get_calendar_token")
def get_calendar_token():
    """Your calendar-feed token: subscribe to ``/calendar/<user id>.ics?token=…``."""
    return _calendar_token_answer(calendar.calendar_token(current_api_user()))


@validate(answers={200: CalendarTokenOut}, tags=TASKS, operation_id="rotate_calendar_token")
def rotate_calendar_token():
    """A new calendar-feed token; links with the old one stop working."""
    token = calendar.rotate_calendar_token(current_api_user())
    db.session.commit()
    return _calendar_token_answer(token)


# --- types and statuses --------------------------------------------------------------------


def _type_or_404(type_id: int) -> TaskType:
    """The task type, or 404."""
    return get_by_id(TaskType, type_id, Message("no task type with id %(id)s", id=type_id))


@validate(query=ActiveQuery, answers={200: TaskTypePage}, tags=CONFIGURATION, operation_id="list_task_types")
def list_task_types():
    statement = select(TaskType).order_by(TaskType.position, TaskType.id)
    if request_query().active is not None:
        statement = statement.where(TaskType.active.is_(request_query().active))
    return paginate(statement, request_query(), TaskTypeOut, TaskTypePage)


@validate(
    json=TaskTypeCreate,
    answers={201: TaskTypeOut},
    tags=CONFIGURATION,
    operation_id="create_task_type",
    permission=CONFIGURE.name,
)
def create_task_type():
    task_type = configuration.save_task_type(current_api_user(), None, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TaskTypeOut.model_validate(task_type), 201


@validate(answers={200: TaskTypeOut}, tags=CONFIGURATION, operation_id="get_task_type")
def get_task_type(type_id: int):
    return TaskTypeOut.model_validate(_type_or_404(type_id))


@validate(
    json=TaskTypeUpdate,
    answers={200: TaskTypeOut},
    tags=CONFIGURATION,
    operation_id="update_task_type",
    permission=CONFIGURE.name,
)
def update_task_type(type_id: int):
    task_type = _type_or_404(type_id)
    configuration.save_task_type(current_api_user(), task_type, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TaskTypeOut.model_validate(task_type)


@validate(query=ActiveQuery, answers={200: TaskStatusPage}, tags=CONFIGURATION, operation_id="list_task_statuses")
def list_task_statuses():
    statement = select(TaskStatus).order_by(TaskStatus.position, TaskStatus.id)
    if request_query().active is not None:
        statement = statement.where(TaskStatus.active.is_(request_query().active))
    rows, total = page_of(statement, request_query().page, request_query().per_page)
    return page_answer(
        TaskStatusPage,
        [TaskStatusOut.model_validate(status) for status in rows],
        total,
        request_query(),
        statuses_enabled=configuration.settings()["statuses_enabled"],
    )


@validate(
    json=TaskStatusCreate,
    answers={201: TaskStatusOut},
    tags=CONFIGURATION,
    operation_id="create_task_status",
    permission=CONFIGURE.name,
)
def create_task_status():
    status = configuration.save_task_status(current_api_user(), None, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TaskStatusOut.model_validate(status), 201


@validate(
    json=TaskStatusUpdate,
    answers={200: TaskStatusOut},
    tags=CONFIGURATION,
    operation_id="update_task_status",
    permission=CONFIGURE.name,
)
def update_task_status(status_id: int):
    status = get_by_id(TaskStatus, status_id, Message("no task status with id %(id)s", id=status_id))
    configuration.save_task_status(current_api_user(), status, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return TaskStatusOut.model_validate(status)


# --- templates -----------------------------------------------------------------------------


def template_out(template: TaskTemplate) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        object_types=list(template.object_types or []),
        items=[
            {
                "id": item.id,
                "title": item.title,
                "type_id": item.type_id,
                "delay_days": item.delay_days,
                "responsible": item.user_id if item.responsible == "user" else item.responsible,
            }
            for item in template.items
        ],
    )


@validate(query=PageQuery, answers={200: TemplatePage}, tags=CONFIGURATION, operation_id="list_task_templates")
def list_templates():
    query = request_query()
    rows, total = page_of(select(TaskTemplate).order_by(TaskTemplate.name, TaskTemplate.id), query.page, query.per_page)
    return page_answer(TemplatePage, [template_out(row) for row in rows], total, query)


@validate(
    json=TemplateCreate,
    answers={201: TemplateOut},
    tags=CONFIGURATION,
    operation_id="create_task_template",
    permission=CONFIGURE.name,
)
def create_template():
    template = templates.save_template(current_api_user(), None, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return template_out(template), 201


@validate(answers={200: TemplateOut}, tags=CONFIGURATION, operation_id="get_task_template")
def get_template(template_id: int):
    return template_out(templates.template_or_404(template_id))


@validate(
    json=TemplateUpdate,
    answers={200: TemplateOut},
    tags=CONFIGURATION,
    operation_id="update_task_template",
    permission=CONFIGURE.name,
)
def update_template(template_id: int):
    template = templates.template_or_404(template_id)
    templates.save_template(current_api_user(), template, request_body().model_dump(exclude_unset=True))
    db.session.commit()
    return template_out(template)


@validate(answers={204: None}, tags=CONFIGURATION, operation_id="delete_task_template", permission=CONFIGURE.name)
def delete_template(template_id: int):
    template = templates.template_or_404(template_id)
    db.session.delete(template)
    db.session.commit()
    return "", 204


@validate(json=ApplyTemplate, answers={201: AppliedOut}, tags=TASKS, operation_id="apply_task_template")
def apply_template(template_id: int):
    body = request_body()
    template = templates.template_or_404(template_id)
    created = templates.apply_template(
        current_api_user(), template, body.object_type, body.object_id, body.responsible_id
    )
    db.session.commit()
    visibility = Visibility.of(current_api_user())
    return AppliedOut(
        created=[
            task_out(task, visibility.level_of(task))
            for task in created
            if visibility.level_of(task) in ("read", "full")
        ]
    ), 201


@validate(query=PostSaleQuery, answers={200: PostSalePage}, tags=CONFIGURATION, operation_id="list_post_sale_templates")
def list_post_sale():
    query = request_query()
    statement = select(PostSaleTemplate).order_by(PostSaleTemplate.pipeline_id, PostSaleTemplate.outcome)
    if query.pipeline_id is not None:
        statement = statement.where(PostSaleTemplate.pipeline_id == query.pipeline_id)
    if query.outcome is not None:
        statement = statement.where(PostSaleTemplate.outcome == query.outcome)
    return paginate(statement, query, PostSaleOut, PostSalePage)


@validate(
    json=PostSaleCreate,
    answers={201: PostSaleOut},
    tags=CONFIGURATION,
    operation_id="create_post_sale_template",
    permission=CONFIGURE.name,
)
def create_post_sale():
    post_sale = templates.save_post_sale(current_api_user(), request_body().model_dump())
    db.session.commit()
    return PostSaleOut.model_validate(post_sale), 201


@validate(answers={204: None}, tags=CONFIGURATION, operation_id="delete_post_sale_template", permission=CONFIGURE.name)
def delete_post_sale(post_sale_id: int):
    templates.delete_post_sale(current_api_user(), post_sale_id)
    db.session.commit()
    return "", 204


# --- sharing -------------------------------------------------------------------------------


@validate(query=ShareQuery, answers={200: SharePage}, tags=SHARING, operation_id="list_task_sharing")
def list_sharing():
    query = request_query()
    statement = sharing.list_shares(current_api_user(), query.owner_id, query.grantee_id)
    return paginate(statement, query, ShareOut, SharePage)


@validate(json=ShareCreate, answers={200: ShareOut, 201: ShareOut}, tags=SHARING, operation_id="set_task_sharing")
def set_sharing():
    """Share tasks (all types, or one) at a level; replaces the grant for the same scope
    (201 when new, 200 when replaced)."""
    body = request_body()
    share, created = sharing.set_share(
        current_api_user(), body.owner_id, body.grantee_id, body.task_type_id, body.level
    )
    db.session.commit()
    return ShareOut.model_validate(share), 201 if created else 200


@validate(answers={204: None}, tags=SHARING, operation_id="delete_task_sharing")
def delete_sharing(share_id: int):
    sharing.delete_share(current_api_user(), share_id)
    db.session.commit()
    return "", 204


# --- the calendar feed ---------------------------------------------------------------------


@validate(query=CalendarQuery, answers={200: None}, tags=TASKS, operation_id="calendar_feed", public=True)
def calendar_feed(user_id: int):
    """An iCalendar feed of the user's tasks as the token's holder may see them. The token
    is a calendar token (``GET /api/v1/tasks/calendar-token``), never an API token (URLs end
    up in access logs); free/busy entries carry no title or details."""
    holder = calendar.user_for_calendar_token(request_query().token)
    if holder is None:
        raise Unauthorized(Message("the calendar token is invalid or revoked, or its user has left"))
    owner = get_by_id(User, user_id, Message("no user with id %(id)s", id=user_id))
    body = feed_of(owner, calendar.calendar_tasks(holder, owner.id))
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'inline; filename="opiekun-{user_id}.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )


def blueprints() -> list[Blueprint]:
    api = Blueprint("tasks_api", __name__, url_prefix=API_PREFIX)
    rules = [
        ("/tasks", list_tasks, "GET"),
        ("/tasks", create_task, "POST"),
        ("/tasks/<int:task_id>", get_task, "GET"),
        ("/tasks/<int:task_id>", update_task, "PATCH"),
        ("/tasks/<int:task_id>", delete_task, "DELETE"),
        ("/tasks/settings", get_settings, "GET"),
        ("/tasks/settings", update_settings, "PATCH"),
        ("/tasks/calendar-token", get_calendar_token, "GET"),
        ("/tasks/calendar-token", rotate_calendar_token, "POST"),
        ("/task-types", list_task_types, "GET"),
        ("/task-types", create_task_type, "POST"),
        ("/task-types/<int:type_id>", get_task_type, "GET"),
        ("/task-types/<int:type_id>", update_task_type, "PATCH"),
        ("/task-statuses", list_task_statuses, "GET"),
        ("/task-statuses", create_task_status, "POST"),
        ("/task-statuses/<int:status_id>", update_task_status, "PATCH"),
        ("/task-templates", list_templates, "GET"),
        ("/task-templates", create_template, "POST"),
        ("/task-templates/<int:template_id>", get_template, "GET"),
        ("/task-templates/<int:template_id>", update_template, "PATCH"),
        ("/task-templates/<int:template_id>", delete_template, "DELETE"),
        ("/task-templates/<int:template_id>/apply", apply_template, "POST"),
        ("/post-sale-templates", list_post_sale, "GET"),
        ("/post-sale-templates", create_post_sale, "POST"),
        ("/post-sale-templates/<int:post_sale_id>", delete_post_sale, "DELETE"),
        ("/task-sharing", list_sharing, "GET"),
        ("/task-sharing", set_sharing, "POST"),
        ("/task-sharing/<int:share_id>", delete_sharing, "DELETE"),
    ]
    for path, view, method in rules:
        api.add_url_rule(path, f"{view.__name__}_{method.lower()}", view, methods=[method])
    feed = Blueprint("tasks_calendar", __name__, url_prefix="/calendar")
    feed.add_url_rule("/<int:user_id>.ics", "feed", calendar_feed, methods=["GET"])
    return [api, feed]
