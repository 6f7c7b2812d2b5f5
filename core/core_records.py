"""The core's own records, contributed through the same hooks a plugin uses: its models and
migrations, its six record types, and the items of a user (counted and transferred by
``owner_id`` for every record type that leaves that to the core).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session

from opiekun import hookimpl
from opiekun.api import core_record_schemas as schemas
from opiekun.changes import update_records
from opiekun.extensions import db
from opiekun.models import Company, Deal, Invoice, Lead, Offer, Person, Pipeline, PipelineStage, User
from opiekun.record_registry import RecordApi, RecordType, record_types
from opiekun.record_rules import apply_deal_values
from opiekun.user_items import ItemCount, TransferRequest, TransferResult, records_to_move

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"

# --- the core's record types, as hook implementations ----------------------------------------

CORE_RECORD_TYPES = (
    RecordType(
        "company",
        Company,
        "Company",
        "Companies",
        "companies",
        RecordApi(schemas.CompanyCreate, schemas.CompanyUpdate, schemas.CompanyOut, schemas.CompanyFilters),
        search_columns=("name", "tax_id", "city"),
    ),
    RecordType(
        "person",
        Person,
        "Person",
        "Persons",
        "persons",
        RecordApi(schemas.PersonCreate, schemas.PersonUpdate, schemas.PersonOut, schemas.PersonFilters),
        search_columns=("first_name", "last_name", "email"),
    ),
    RecordType(
        "lead",
        Lead,
        "Lead",
        "Leads",
        "leads",
        RecordApi(schemas.LeadCreate, schemas.LeadUpdate, schemas.LeadOut, schemas.LeadFilters),
        closed=lambda: Lead.status.in_(("qualified", "disqualified")),
    ),
    RecordType(
        "deal",
        Deal,
        "Deal",
        "Deals",
        "deals",
        RecordApi(
            schemas.DealCreate, schemas.DealUpdate, schemas.DealOut, schemas.DealFilters, apply=apply_deal_values
        ),
        closed=lambda: Deal.status != "open",
    ),
    RecordType(
        "offer",
        Offer,
        "Offer",
        "Offers",
        "offers",
        RecordApi(schemas.OfferCreate, schemas.OfferUpdate, schemas.OfferOut, schemas.OfferFilters),
        closed=lambda: Offer.status.in_(("accepted", "rejected")),
    ),
    RecordType(
        "invoice",
        Invoice,
        "Invoice",
        "Invoices",
        "invoices",
        RecordApi(schemas.InvoiceCreate, schemas.InvoiceUpdate, schemas.InvoiceOut, schemas.InvoiceFilters),
        closed=lambda: Invoice.status.in_(("paid", "cancelled")),
        search_columns=("number",),
    ),
)


@hookimpl
def opiekun_models() -> Iterable[type]:
    return [User, Company, Person, Lead, Pipeline, PipelineStage, Deal, Offer, Invoice]


@hookimpl
def opiekun_migrations_dir() -> str:
    return str(MIGRATIONS_DIR)


@hookimpl
def opiekun_record_types() -> Iterable[RecordType]:
    return CORE_RECORD_TYPES


@hookimpl
def opiekun_user_items(user_id: int, include_closed: bool) -> Iterable[ItemCount]:
    """Every registered record type the user owns (partners' types included): the
    ``owner_id`` column is common to all of them. Types registered with
    ``owner_items=False`` are left to the plugin that registers them."""
    counts = []
    for record_type in record_types():
        if not record_type.owner_items:  # the registering plugin answers for it
            continue
        model = record_type.model
        held = records_to_move(record_type, user_id)  # what a transfer of everything moves
        if record_type.closed is None:
            open_count, closed_count = db.session.scalar(select(func.count()).where(held)), 0
        else:
            closed = record_type.closed()
            row = db.session.execute(
                select(func.count().filter(not_(closed)), func.count().filter(closed)).select_from(model).where(held)
            ).one()
            open_count, closed_count = row
        if not include_closed:
            closed_count = 0
        counts.append(ItemCount(record_type.name, record_type.label_plural, open_count or 0, closed_count or 0))
    return counts


@hookimpl
def opiekun_transfer_user_items(session: Session, request: TransferRequest) -> Iterable[TransferResult]:
    """Give the records' ``owner_id`` to the recipient, one set-based UPDATE per type.

    With ``options={"follow_company_only": True}`` only records whose company the
    recipient owns move (types without a ``company_id`` are left alone): offboarding's
    "records follow their company" step."""
    options = request.options or {}
    results = []
    for record_type in record_types():
        if record_type.name not in request.object_types or not record_type.owner_items:
            continue
        model = record_type.model
        if options.get("follow_company_only"):
            if not hasattr(model, "company_id"):
                continue
            selected = and_(
                records_to_move(record_type, request.from_user_id, request.include_closed),
                model.company_id.in_(select(Company.id).where(Company.owner_id == request.to_user_id)),
            )
        else:
            selected = records_to_move(record_type, request.from_user_id, request.include_closed, request.share)
        moved = update_records(session, model, selected, {"owner_id": request.to_user_id})
        results.append(TransferResult(record_type.name, moved))
    return results
