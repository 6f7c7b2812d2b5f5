"""Demo data: a sales team with a departed colleague, and as many records as asked for.

``opiekun demo`` loads the core's part once, then lets each enabled plugin add its own
(hook ``opiekun_demo_data``) once; a ``Setting`` per part remembers what was loaded, so
running it again adds nothing twice, and enabling a plugin later adds just its part.

The core's records are written set-based, :data:`CHUNK_SIZE` companies at a time with
their persons, deals, offers and invoices (then the leads, as many at a time): a chunk's
rows are drawn from the seeded random generator (the same seed, the same data), inserted
with one statement per table (``COPY`` on PostgreSQL, an ``executemany`` elsewhere), and
announced to the change stream as ``create`` events, one
:class:`~opiekun.changes.BulkChange` per record type and owner. Memory holds one chunk,
so a million companies take minutes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Table, and_, func, insert, select, true
from sqlalchemy.engine import Connection

from opiekun import local_time
from opiekun.changes import Actor, RecordBatch, acting_as
from opiekun.extensions import db
from opiekun.models import (
    DEFAULT_CURRENCY,
    Company,
    Deal,
    Invoice,
    Lead,
    Offer,
    Person,
    Pipeline,
    PipelineStage,
    User,
    utcnow,
)
from opiekun.sales_pipeline import ensure_default_pipeline
from opiekun.stored_settings import SettingsStore

DEMO_PASSWORD = "demo-haslo-2026"
#: Companies written (with their persons, deals, offers and invoices) and leads written per chunk.
CHUNK_SIZE = 10_000
#: Companies, persons and deals a :class:`DemoContext` hands to plugins, at most.
SAMPLE_SIZE = 1_000

#: ``progress(part, done, total)``, told after each chunk: ``("companies", 20000, 1000000)``.
Progress = Callable[[str, int, int], None]
#: The column values of one record to insert (its ``id`` is added once it is written).
Row = dict[str, Any]

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
_POSITIONS = ["Prezes", "Kierownik zakupów", "Specjalista", "Dyrektor IT"]
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
    """What the core's demo data made, for plugins adding theirs on top.

    ``users`` (the demo team) and ``pipelines`` are all of them. ``companies``, ``persons``
    and ``deals`` are a sample: up to :data:`SAMPLE_SIZE` (1,000) of each, the first ones by
    id, so a demo of a million companies hands over a thousand (a plugin that needs every
    record reads them set-based). ``rng`` is seeded: the demo is the same every time.
    """

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


def _company_name(rng: random.Random, number: int) -> str:
    return f"{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_WORDS).lower()} {number} {rng.choice(_COMPANY_SUFFIXES)}"


def _insert(table: Table, rows: list[Row]) -> None:
    """Insert ``rows`` into ``table`` and give each the ``id`` the database chose."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy_with_ids(connection, table, rows)
        return
    ids = connection.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id


def _copy_with_ids(connection: Connection, table: Table, rows: list[Row]) -> None:
    """PostgreSQL: ids drawn from the table's sequence, then the rows in one ``COPY`` (an
    ``executemany`` of a chunk spends several times as long, most of it in the driver)."""
    sequence = func.pg_get_serial_sequence(table.name, "id")
    ids = connection.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows))))
    for row, record_id in zip(rows, ids, strict=True):
        row["id"] = record_id
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def _new_batch() -> RecordBatch:
    """A batch to announce one chunk's records with: a column for their old ``owner_id``
    (none). One per chunk: on PostgreSQL the rows a batch has discarded stay in its table
    as dead rows until the transaction ends, and every read of the batch reads them too."""
    return RecordBatch(db.session, {"owner_id": Integer})


def _write(batch: RecordBatch, model: Any, rows: list[Row]) -> list[Row]:
    """Insert ``rows``, all created now, and announce them through ``batch``; returns them
    with their ids."""
    if rows:
        moment = utcnow()
        for row in rows:
            row["created_at"] = row["updated_at"] = moment
        _insert(model.__table__, rows)
        _announce_created(batch, model, rows, moment)
    return rows


def _announce_created(batch: RecordBatch, model: Any, rows: list[Row], moment: dt.datetime) -> None:
    """One ``create`` event per row just written, in one bulk change per owner (a bulk
    change has one new value per field: the owner is the one its records share). The
    records are found again as those with ids from the lowest to the highest of the
    rows', created at ``moment``: so not a record someone else wrote in between."""
    object_type = current_app.extensions["opiekun.record_types"].for_model(model).name
    ids = [row["id"] for row in rows]
    written = and_(model.id.between(min(ids), max(ids)), model.created_at == moment)
    for owner_id in sorted({row["owner_id"] for row in rows}):
        count = batch.add_records(model, and_(written, model.owner_id == owner_id))
        batch.announce(object_type, "create", {"owner_id": owner_id}, count=count)
        batch.discard(true())


class _CoreRecords:
    """The core's demo records, drawn from ``rng`` and written a chunk at a time, each
    chunk announced through a :class:`RecordBatch` of its own (see :func:`_new_batch`)."""

    def __init__(self, rng: random.Random, owner_ids: list[int], pipeline: Pipeline):
        self.rng = rng
        self.owner_ids = owner_ids
        self.pipeline_id = pipeline.id
        self.stage_ids = [stage.id for stage in pipeline.stages]
        self.today = local_time.today()
        self.persons_written = 0
        self.deals_written = 0

    def write_companies(self, numbers: range) -> None:
        """Companies numbered ``numbers``, each with 1–3 persons and a deal; an offer for
        every other deal, an invoice for every deal won."""
        with _new_batch() as batch:
            companies = _write(batch, Company, [self._company(number) for number in numbers])
            _write(batch, Person, [person for company in companies for person in self._persons(company)])
            deals = _write(batch, Deal, [self._deal(company) for company in companies])
            numbered = list(enumerate(deals, start=self.deals_written + 1))
            self.deals_written += len(deals)
            _write(batch, Offer, [self._offer(deal, number) for number, deal in numbered if number % 2])
            _write(
                batch, Invoice, [self._invoice(deal, number) for number, deal in numbered if deal["status"] == "won"]
            )

    def write_leads(self, numbers: range) -> None:
        with _new_batch() as batch:
            _write(batch, Lead, [self._lead(number) for number in numbers])

    def _company(self, number: int) -> Row:
        rng = self.rng
        owner_id = rng.choice(self.owner_ids)
        return {
            "name": _company_name(rng, number),
            "city": rng.choice(_CITIES),
            "tax_id": f"{rng.randrange(10**9, 10**10)}",
            "phone": f"+48 {rng.randrange(500, 899)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}",
            "email": f"biuro@firma{number}.example",
            "owner_id": owner_id,
            "created_by_id": owner_id,
        }

    def _persons(self, company: Row) -> list[Row]:
        rng = self.rng
        persons = []
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            persons.append(
                {
                    "first_name": first,
                    "last_name": last,
                    "company_id": company["id"],
                    "owner_id": company["owner_id"],
                    "created_by_id": company["owner_id"],
                    "position": rng.choice(_POSITIONS),
                    "email": f"{first[0].lower()}.{company['id']}.{self.persons_written}@firma{company['id']}.example",
                }
            )
            self.persons_written += 1
        return persons

    def _deal(self, company: Row) -> Row:
        rng = self.rng
        status = rng.choices(["open", "won", "lost"], weights=[6, 3, 2])[0]
        return {
            "name": f"{rng.choice(_DEAL_TOPICS)} — {company['name']}",
            "company_id": company["id"],
            "pipeline_id": self.pipeline_id,
            "stage_id": rng.choice(self.stage_ids),
            "value": Decimal(rng.randrange(5, 500) * 1000),
            "currency": DEFAULT_CURRENCY,
            "status": status,
            "owner_id": company["owner_id"],
            "created_by_id": company["owner_id"],
            "close_date": self.today + dt.timedelta(days=rng.randint(-120, 90)),
            "lost_reason": "Cena" if status == "lost" else None,
        }

    def _offer(self, deal: Row, number: int) -> Row:
        return {
            "name": f"Oferta {number}/{self.today.year}",
            "deal_id": deal["id"],
            "company_id": deal["company_id"],
            "value": deal["value"],
            "status": {"won": "accepted", "lost": "rejected"}.get(deal["status"], "sent"),
            "owner_id": deal["owner_id"],
            "created_by_id": deal["owner_id"],
            "valid_until": self.today + dt.timedelta(days=30),
        }

    def _invoice(self, deal: Row, number: int) -> Row:
        rng = self.rng
        return {
            "number": f"FV/{self.today.year}/{number:05d}",
            "deal_id": deal["id"],
            "company_id": deal["company_id"],
            "amount": deal["value"],
            "status": rng.choice(["issued", "paid"]),
            "owner_id": deal["owner_id"],
            "created_by_id": deal["owner_id"],
            "issue_date": self.today - dt.timedelta(days=rng.randint(1, 60)),
            "due_date": self.today + dt.timedelta(days=14),
        }

    def _lead(self, number: int) -> Row:
        rng = self.rng
        lead = {
            "name": f"Zapytanie ze strony {number}",
            "source": rng.choice(["strona www", "targi", "polecenie", "LinkedIn"]),
            "status": rng.choice(["new", "contacted", "qualified"]),
            "owner_id": rng.choice(self.owner_ids),
            "email": f"kontakt{number}@lead.example",
        }
        lead["created_by_id"] = lead["owner_id"]
        return lead


def _chunks(total: int) -> Iterator[range]:
    """The numbers 1 … ``total`` in ranges of :data:`CHUNK_SIZE`."""
    for start in range(1, total + 1, CHUNK_SIZE):
        yield range(start, min(start + CHUNK_SIZE, total + 1))


def _load_core(context: DemoContext, companies: int, progress: Progress) -> None:
    """The core's records: ``companies`` companies with what hangs on them, a lead per
    three companies, and a second pipeline."""
    ensure_default_pipeline()
    pipeline = db.session.scalars(select(Pipeline).order_by(Pipeline.id)).first()
    service = Pipeline(
        name="Serwis",
        stages=[PipelineStage(name="Zgłoszenie", position=1), PipelineStage(name="Realizacja", position=2)],
    )
    db.session.add(service)
    db.session.flush()
    leads = companies // 3 + 1
    records = _CoreRecords(context.rng, [user.id for user in context.users], pipeline)
    for numbers in _chunks(companies):
        records.write_companies(numbers)
        progress("companies", numbers[-1], companies)
    for numbers in _chunks(leads):
        records.write_leads(numbers)
        progress("leads", numbers[-1], leads)


def _first(model: Any) -> list[Any]:
    """The first :data:`SAMPLE_SIZE` records of ``model`` (by id)."""
    return list(db.session.scalars(select(model).order_by(model.id).limit(SAMPLE_SIZE)))


def _hand_over(context: DemoContext) -> None:
    """Fill the context's pipelines and samples from the database."""
    context.companies, context.persons, context.deals = _first(Company), _first(Person), _first(Deal)
    context.pipelines = list(db.session.scalars(select(Pipeline).order_by(Pipeline.id)))


def _quiet(part: str, done: int, total: int) -> None:
    """The progress of a load nobody follows."""


def load_demo(companies: int = 300, seed: int = 2026, progress: Progress = _quiet) -> list[str]:
    """Load what is not loaded yet; returns the parts loaded now (``core``, plugin names).
    ``progress`` is told after each chunk of the core's records."""
    plugins = current_app.extensions["opiekun.plugins"]
    context = DemoContext(rng=random.Random(seed))
    loaded_now = []
    with acting_as(Actor(job="demo")):
        context.users = _load_team()
        if not _loaded("core"):
            _load_core(context, companies, progress)
            LOADED_PARTS.setting("core", default=False).write(True)
            loaded_now.append("core")
        _hand_over(context)
        for name in plugins.names:
            if not _loaded(name):
                plugins.demo_data(name, context)
                LOADED_PARTS.setting(name, default=False).write(True)
                loaded_now.append(name)
        db.session.commit()
    return loaded_now
