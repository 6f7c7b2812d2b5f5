"""Task templates (a named list of tasks created on a record in one step, each due a
number of days after it is applied) and post-sale templates (the template a pipeline's
deals get when they are won or lost)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from opiekun.plugin import (
    Conflict,
    Invalid,
    Message,
    Pipeline,
    Refused,
    User,
    company_today,
    current_actor,
    db,
    find_by_id,
    get_by_id,
    record_type_label,
    record_types,
    record_types_label,
)
from opiekun.plugins.tasks.models import PostSaleTemplate, Task, TaskTemplate, TaskTemplateItem, TaskType
from opiekun.plugins.tasks.permissions import CONFIGURE, require_permission
from opiekun.plugins.tasks.services.configuration import unique_name
from opiekun.plugins.tasks.services.tasks import assignment_rule, refuse_assignment, save_task
from opiekun.plugins.tasks.services.validation import check_object, check_user
from opiekun.plugins.tasks.services.wording import outcome_label

#: Record types a new template may be applied to unless it says otherwise.
DEFAULT_TEMPLATE_TYPES = ("person", "company", "lead", "deal")


def template_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: problem}`` for a template's record types and items."""
    problems: dict[str, str] = {}
    for object_type in values.get("object_types") or ():
        if object_type not in record_types() or object_type == "task":
            problems["object_types"] = Message("unknown record type %(type)r", type=object_type)
    for index, item in enumerate(values.get("items") or ()):
        if find_by_id(TaskType, item["type_id"]) is None:
            problems[f"items.{index}.type_id"] = Message("no task type with id %(id)s", id=item["type_id"])
        if isinstance(item["responsible"], int):
            check_user(item["responsible"], f"items.{index}.responsible", problems)
    return problems


def save_template(actor: User, template: TaskTemplate | None, values: Mapping[str, Any]) -> TaskTemplate:
    """Create or replace a template; ``items[].responsible`` is a user id, ``"ask"`` or
    ``"record_owner"``."""
    require_permission(actor, CONFIGURE)
    values = dict(values)
    if values.get("items"):
        values["items"] = [{"delay_days": 0, "responsible": "ask", **item} for item in values["items"]]
    problems = {name: Message("must not be null") for name, value in values.items() if value is None}
    problems.update(template_problems(values))
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    creating = template is None
    template = template or TaskTemplate(object_types=list(DEFAULT_TEMPLATE_TYPES))
    if "name" in values:
        unique_name(TaskTemplate, values["name"], template.id)
        template.name = values["name"]
    if "object_types" in values:
        template.object_types = list(dict.fromkeys(values["object_types"]))
    if "items" in values:
        template.items = [
            TaskTemplateItem(
                position=position,
                title=item["title"],
                type_id=item["type_id"],
                delay_days=item["delay_days"],
                responsible="user" if isinstance(item["responsible"], int) else item["responsible"],
                user_id=item["responsible"] if isinstance(item["responsible"], int) else None,
            )
            for position, item in enumerate(values["items"], start=1)
        ]
    if creating:
        db.session.add(template)
    db.session.flush()
    return template


def template_or_404(template_id: int) -> TaskTemplate:
    """The template, or 404."""
    return get_by_id(TaskTemplate, template_id, Message("no task template with id %(id)s", id=template_id))


def item_responsible(
    item: TaskTemplateItem, record: Any, actor: User | None, responsible_id: int | None
) -> tuple[int | None, bool]:
    """Who gets the task of a template ``item`` applied to ``record``, and whether that is
    the user chosen when applying (``responsible_id``): the user the item names (while
    active), the one chosen (items marked ``ask``), or the record's owner; when that is
    nobody, the one chosen, the record's owner, or the actor."""
    if item.responsible == "user":
        if db.session.scalar(select(User.status).where(User.id == item.user_id)) == "active":
            return item.user_id, False
    elif item.responsible == "record_owner" and record.owner_id is not None:
        return record.owner_id, False
    if responsible_id is not None:
        return responsible_id, True
    return record.owner_id or (actor.id if actor else None), False


def apply_template(
    actor: User | None,
    template: TaskTemplate,
    object_type: str,
    object_id: int,
    responsible_id: int | None = None,
    *,
    today: dt.date | None = None,
    check_rights: bool = True,
) -> list[Task]:
    """Create the template's tasks on a record, due ``delay_days`` after ``today`` (the day
    it is applied). ``responsible_id`` names who gets the items marked ``ask``."""
    problems = check_object(object_type, object_id)
    if problems:
        raise Invalid(Message("the record is not valid"), problems)
    if object_type not in (template.object_types or ()):
        types = record_types_label(template.object_types or ())
        applies_to = (
            Message("template %(name)r applies to: %(types)s", name=template.name, types=types)
            if template.object_types
            else Message("template %(name)r applies to: nothing", name=template.name)
        )
        raise Invalid(Message("the template does not apply to this record type"), {"object_type": applies_to})
    record_type = record_types().get(object_type)
    record = db.session.get(record_type.model, object_id)
    if check_rights and actor is not None:
        from opiekun.plugin import may_change

        if not may_change(actor, record_type, record, "update"):
            raise Refused(
                Message(
                    "you may not add tasks to this %(type)s: it belongs to another user",
                    type=record_type_label(object_type),
                )
            )
    asks = any(item.responsible == "ask" for item in template.items)
    if responsible_id is not None:
        user_problems: dict[str, str] = {}
        check_user(responsible_id, "responsible_id", user_problems)
        if user_problems:
            raise Invalid(Message("some values are not valid"), user_problems)
    elif asks and check_rights:
        raise Invalid(
            Message("the template asks who is responsible"),
            {"responsible_id": Message("required: the template has items marked 'ask'")},
        )
    today = today or company_today()
    owners = [item_responsible(item, record, actor, responsible_id) for item in template.items]
    if check_rights and actor is not None:
        may_assign = assignment_rule(actor)
        for item, (owner, chosen) in zip(template.items, owners, strict=True):
            if chosen and not may_assign(owner, item.type_id):
                raise refuse_assignment()
    created = []
    for item, (owner, _) in zip(template.items, owners, strict=True):
        task = Task(
            created_by_id=actor.id if actor else None, priority="normal", private=False, done=False, reminders=[]
        )
        created.append(
            save_task(
                task,
                {
                    "title": item.title,
                    "type_id": item.type_id,
                    "responsible_id": owner,
                    "object_type": object_type,
                    "object_id": object_id,
                    "due_date": today + dt.timedelta(days=item.delay_days),
                },
                creating=True,
            )
        )
    return created


def save_post_sale(actor: User, values: Mapping[str, Any]) -> PostSaleTemplate:
    """Name the template a pipeline's deals get when won or lost (one per pipeline and outcome)."""
    require_permission(actor, CONFIGURE)
    problems: dict[str, str] = {}
    if find_by_id(Pipeline, values["pipeline_id"]) is None:
        problems["pipeline_id"] = Message("no pipeline with id %(id)s", id=values["pipeline_id"])
    template = find_by_id(TaskTemplate, values["template_id"])
    if template is None:
        problems["template_id"] = Message("no task template with id %(id)s", id=values["template_id"])
    elif "deal" not in (template.object_types or ()):
        problems["template_id"] = Message("template %(name)r does not apply to deals", name=template.name)
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    existing = db.session.scalar(
        select(PostSaleTemplate.id).where(
            PostSaleTemplate.pipeline_id == values["pipeline_id"], PostSaleTemplate.outcome == values["outcome"]
        )
    )
    if existing is not None:
        raise Conflict(
            Message(
                "the pipeline already has a template for %(outcome)s deals (id %(id)s); delete it first",
                outcome=outcome_label(values["outcome"]),
                id=existing,
            ),
            {"outcome": Message("already set")},
        )
    post_sale = PostSaleTemplate(
        pipeline_id=values["pipeline_id"], outcome=values["outcome"], template_id=values["template_id"]
    )
    db.session.add(post_sale)
    db.session.flush()
    return post_sale


def delete_post_sale(actor: User, post_sale_id: int) -> None:
    """Remove a post-sale template (the task template stays)."""
    require_permission(actor, CONFIGURE)
    not_found = Message("no post-sale template with id %(id)s", id=post_sale_id)
    db.session.delete(get_by_id(PostSaleTemplate, post_sale_id, not_found))
    db.session.flush()


def deal_closed(deal, outcome: str) -> list[Task]:
    """The pipeline's post-sale template for ``outcome``, applied to the deal (called by
    the core's deal-closed hook, inside the closing transaction)."""
    template = db.session.scalar(
        select(TaskTemplate)
        .join(PostSaleTemplate, PostSaleTemplate.template_id == TaskTemplate.id)
        .where(PostSaleTemplate.pipeline_id == deal.pipeline_id, PostSaleTemplate.outcome == outcome)
    )
    if template is None:
        return []
    actor_id = current_actor().user_id
    actor = db.session.get(User, actor_id) if actor_id else None
    return apply_template(actor, template, "deal", deal.id, None, check_rights=False)
