"""Demo data of the tasks plugin (``opiekun demo``): tasks for the team on demo deals and
companies, an e-mail → phone proposal, a "new customer" template, a post-sale template and
one sharing grant. Called once per database (the core remembers it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from opiekun.plugin import company_today
from opiekun.plugins.tasks.models import (
    PostSaleTemplate,
    Task,
    TaskShare,
    TaskTemplate,
    TaskTemplateItem,
    TaskType,
)
from opiekun.plugins.tasks.services.configuration import ensure_defaults


def add_demo_tasks(context) -> None:
    session = context.session
    ensure_defaults()
    session.flush()
    types = {task_type.name: task_type for task_type in session.scalars(select(TaskType))}
    types["E-mail"].next_types = [types["Telefon"]]
    types["E-mail"].next_delay = 2
    active = [user for user in context.users if user.status == "active"]
    today = company_today()
    rng = context.rng
    names = list(types)
    for index, deal in enumerate(context.deals[:120]):
        type_name = names[index % len(names)]
        due = today + dt.timedelta(days=rng.randint(-10, 30))
        session.add(
            Task(
                title=f"{type_name}: {deal.name}",
                type_id=types[type_name].id,
                owner_id=deal.owner_id or active[0].id,
                created_by_id=deal.owner_id,
                object_type="deal",
                object_id=deal.id,
                due_date=due,
                priority=rng.choice(("low", "normal", "normal", "high")),
                private=False,
                reminders=[],
                done=due < today and rng.random() < 0.5,
            )
        )
    template = TaskTemplate(
        name="Nowy klient",
        object_types=["person", "company", "lead", "deal"],
        items=[
            TaskTemplateItem(
                position=1,
                title="Powitalny e-mail",
                type_id=types["E-mail"].id,
                delay_days=0,
                responsible="record_owner",
            ),
            TaskTemplateItem(
                position=2, title="Telefon kontrolny", type_id=types["Telefon"].id, delay_days=7, responsible="ask"
            ),
        ],
    )
    session.add(template)
    session.flush()
    for pipeline in context.pipelines[:1]:
        session.add(PostSaleTemplate(pipeline_id=pipeline.id, outcome="won", template_id=template.id))
    if len(active) >= 2:
        session.add(TaskShare(owner_id=active[1].id, grantee_id=active[0].id, task_type_id=None, level="read"))
    session.flush()
