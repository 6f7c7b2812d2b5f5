"""Demo data: a sales team with a departed colleague, and hundreds of records.

``opiekun demo`` loads the core's part once, then lets each enabled plugin add its own
(hook ``opiekun_demo_data``) once; a ``Setting`` per part remembers what was loaded, so
running it again adds nothing twice, and enabling a plugin later adds just its part.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from opiekun import local_time
from opiekun.changes import Actor, acting_as
from opiekun.extensions import db
from opiekun.models import Company, Deal, Invoice, Lead, Offer, Person, Pipeline, PipelineStage, User, utcnow
from opiekun.sales_pipeline import ensure_default_pipeline
from opiekun.stored_settings import SettingsStore

DEMO_PASSWORD = "demo-haslo-2026"

_FIRST_NAMES = [
    "Anna",
    "Jan",
    "Piotr",
    "Katarzyna",
    "Marek",
    "Agnieszka",
    "Tomasz",
    "Magdalena",
    "Paweł",
    "Joanna",
    "Krzysztof",
    "Monika",
    "Michał",
    "Ewa",
    "Łukasz",
    "Aleksandra",
    "Grzegorz",
    "Natalia",
    "Adam",
    "Zofia",
]
_LAST_NAMES = [
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Kwiatkowski",
    "Krawczyk",
]
_COMPANY_WORDS = ["Agro", "Bud", "Tech", "Trans", "Med", "Pol", "Eko", "Info", "Stal", "Drew", "Energo", "Farm", "Logi"]
_COMPANY_SUFFIXES = ["sp. z o.o.", "S.A.", "sp.j.", "s.c."]
_CITIES = ["Warszawa", "Kraków", "Wrocław", "Poznań", "Gdańsk", "Łódź", "Katowice", "Lublin", "Szczecin", "Rzeszów"]
_DEAL_TOPICS = [
    "Wdrożenie CRM",
    "Licencje roczne",
    "Szkolenie zespołu",
    "Serwis floty",
    "Dostawa materiałów",
    "Audyt IT",
    "Modernizacja linii",
    "Kampania marketingowa",
    "Abonament wsparcia",
    "Rozbudowa magazynu",
]

DEMO_TEAM = (
    ("anna.nowak@opiekun.example", "Anna Nowak", "manager", "active"),
    ("jan.kowalski@opiekun.example", "Jan Kowalski", "user", "active"),
    ("piotr.wisniewski@opiekun.example", "Piotr Wiśniewski", "user", "active"),
    ("ewa.mazur@opiekun.example", "Ewa Mazur", "user", "active"),
    ("marek.zielinski@opiekun.example", "Marek Zieliński", "user", "departed"),
)


@dataclass
class DemoContext:
    """What the core's demo data made, for plugins adding theirs on top."""

    rng: random.Random
    users: list[User] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)

    @property
    def session(self):
        return db.session


#: One setting per part whose demo data is loaded (``demo.loaded.core``, ``demo.loaded.tasks``…).
LOADED_PARTS = SettingsStore("demo.loaded")


def _loaded(part: str) -> bool:
    return bool(LOADED_PARTS.setting(part, default=False).read())


def _company_name(rng: random.Random, number: int) -> str:
    return f"{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_WORDS).lower()} {number} {rng.choice(_COMPANY_SUFFIXES)}"


def _load_team() -> list[User]:
    team = []
    for email, name, role, status in DEMO_TEAM:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role, status="active")
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        if status == "departed" and user.status != "departed":
            user.status, user.departed_at = "departed", utcnow()
        team.append(user)
    db.session.flush()
    return team


def _load_core(context: DemoContext, companies: int) -> None:
    rng = context.rng
    owners = context.users
    ensure_default_pipeline()
    pipeline = db.session.scalars(select(Pipeline).order_by(Pipeline.id)).first()
    service = Pipeline(
        name="Serwis",
        stages=[PipelineStage(name="Zgłoszenie", position=1), PipelineStage(name="Realizacja", position=2)],
    )
    db.session.add(service)
    db.session.flush()
    context.pipelines = [pipeline, service]
    today = local_time.today()
    for number in range(1, companies + 1):
        owner = rng.choice(owners)
        company = Company(
            name=_company_name(rng, number),
            city=rng.choice(_CITIES),
            tax_id=f"{rng.randrange(10**9, 10**10)}",
            phone=f"+48 {rng.randrange(500, 899)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            owner_id=owner.id,
            created_by_id=owner.id,
        )
        company.email = f"biuro@firma{number}.example"
        context.companies.append(company)
    db.session.add_all(context.companies)
    db.session.flush()
    for company in context.companies:
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            context.persons.append(
                Person(
                    first_name=first,
                    last_name=last,
                    company_id=company.id,
                    owner_id=company.owner_id,
                    created_by_id=company.owner_id,
                    position=rng.choice(["Prezes", "Kierownik zakupów", "Specjalista", "Dyrektor IT"]),
                    email=f"{first[0].lower()}.{company.id}.{len(context.persons)}@firma{company.id}.example",
                )
            )
    db.session.add_all(context.persons)
    db.session.flush()
    stages = pipeline.stages
    for company in context.companies:
        status = rng.choices(["open", "won", "lost"], weights=[6, 3, 2])[0]
        deal = Deal(
            name=f"{rng.choice(_DEAL_TOPICS)} — {company.name}",
            company_id=company.id,
            pipeline_id=pipeline.id,
            stage_id=rng.choice(stages).id,
            value=Decimal(rng.randrange(5, 500) * 1000),
            status=status,
            owner_id=company.owner_id,
            created_by_id=company.owner_id,
            close_date=today + dt.timedelta(days=rng.randint(-120, 90)),
            lost_reason="Cena" if status == "lost" else None,
        )
        context.deals.append(deal)
    db.session.add_all(context.deals)
    db.session.flush()
    offers, invoices = [], []
    for index, deal in enumerate(context.deals):
        if index % 2 == 0:
            offers.append(
                Offer(
                    name=f"Oferta {index + 1}/{today.year}",
                    deal_id=deal.id,
                    company_id=deal.company_id,
                    value=deal.value,
                    status={"won": "accepted", "lost": "rejected"}.get(deal.status, "sent"),
                    owner_id=deal.owner_id,
                    created_by_id=deal.owner_id,
                    valid_until=today + dt.timedelta(days=30),
                )
            )
        if deal.status == "won":
            invoices.append(
                Invoice(
                    number=f"FV/{today.year}/{index + 1:05d}",
                    deal_id=deal.id,
                    company_id=deal.company_id,
                    amount=deal.value,
                    status=rng.choice(["issued", "paid"]),
                    owner_id=deal.owner_id,
                    created_by_id=deal.owner_id,
                    issue_date=today - dt.timedelta(days=rng.randint(1, 60)),
                    due_date=today + dt.timedelta(days=14),
                )
            )
    leads = [
        Lead(
            name=f"Zapytanie ze strony {number}",
            source=rng.choice(["strona www", "targi", "polecenie", "LinkedIn"]),
            status=rng.choice(["new", "contacted", "qualified"]),
            owner_id=rng.choice(owners).id,
            email=f"kontakt{number}@lead.example",
        )
        for number in range(1, companies // 3 + 2)
    ]
    for lead in leads:
        lead.created_by_id = lead.owner_id
    db.session.add_all(offers + invoices + leads)
    db.session.flush()


def load_demo(companies: int = 300, seed: int = 2026) -> list[str]:
    """Load what is not loaded yet; returns the parts loaded now (``core``, plugin names)."""
    plugins = current_app.extensions["opiekun.plugins"]
    context = DemoContext(rng=random.Random(seed))
    loaded_now = []
    with acting_as(Actor(job="demo")):
        context.users = _load_team()
        if not _loaded("core"):
            _load_core(context, companies)
            LOADED_PARTS.setting("core", default=False).write(True)
            loaded_now.append("core")
        else:
            context.companies = list(db.session.scalars(select(Company).order_by(Company.id)))
            context.persons = list(db.session.scalars(select(Person).order_by(Person.id)))
            context.deals = list(db.session.scalars(select(Deal).order_by(Deal.id)))
            context.pipelines = list(db.session.scalars(select(Pipeline).order_by(Pipeline.id)))
        for name in plugins.names:
            if not _loaded(name):
                plugins.demo_data(name, context)
                LOADED_PARTS.setting(name, default=False).write(True)
                loaded_now.append(name)
        db.session.commit()
    return loaded_now
