"""The CRM records: rules every surface (API, admin, jobs) goes through, and the core's
own hook implementations for its six record types.

Services here hold the rules — references must exist, owners must be active users,
plugins may refuse a record, who may change what — so that the API and the admin stay
thin and agree.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, not_, select
from sqlalchemy.orm import Session

from opiekun import hookimpl
from opiekun.api import record_schemas as schemas
from opiekun.errors import Conflict, Invalid, Message, Refused
from opiekun.changes import begin_writing, current_actor, update_records
from opiekun.extensions import db
from opiekun.models import Company, Deal, Invoice, Lead, Offer, Person, Pipeline, PipelineStage, User, utcnow
from opiekun.permissions import has_permission
from opiekun.record_types import RecordApi, RecordType, record_types
from opiekun.user_items import ItemCount, TransferRequest, TransferResult, records_to_move

MIGRATIONS_DIR = Path(__file__).parent / "migrations" / "versions"


# --- rules ----------------------------------------------------------------------------------


def _model_for_table(table_name: str) -> type | None:
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table_name:
            return mapper.class_
    return None


def reference_problems(model: type, values: Mapping[str, Any]) -> dict[str, str]:
    """Problems with the ids in ``values`` that point at other rows (foreign keys).

    Unknown ids are refused; an owner must be an active user.
    """
    problems: dict[str, str] = {}
    table = model.__table__
    for field, value in values.items():
        if value is None or field not in table.c:
            continue
        for foreign_key in table.c[field].foreign_keys:
            target = _model_for_table(foreign_key.column.table.name)
            row = db.session.get(target, value) if target is not None else None
            if row is None:
                noun = getattr(target, "__object_type__", "") or (target.__name__.lower() if target else "row")
                if noun == "user":
                    problems[field] = Message("no user with id %(id)s", id=value)
                elif noun == "pipeline":
                    problems[field] = Message("no pipeline with id %(id)s", id=value)
                else:
                    problems[field] = Message("no %(type)s with id %(id)s", type=noun, id=value)
            elif isinstance(row, User) and field == "owner_id" and row.status != "active":
                problems[field] = Message("user %(id)s has departed and cannot own records", id=value)
    return problems


def null_problems(model: type, values: Mapping[str, Any]) -> dict[str, str]:
    table = model.__table__
    return {
        field: Message("must not be null")
        for field, value in values.items()
        if value is None and field in table.c and not table.c[field].nullable
    }


def may_change(user: User, record_type: RecordType, record: Any, action: str) -> bool:
    """Whether ``user`` may ``update`` or ``delete`` ``record``: its owner, anyone when it
    has no owner, holders of ``records.edit_others``, or whom a plugin allows; a plugin's
    ``False`` forbids."""
    verdict = current_app.extensions["opiekun.plugins"].record_access(user, record_type, record, action)
    if verdict is False:
        return False
    if action == "delete" and not has_permission(user, "records.delete"):
        return False
    if has_permission(user, "records.edit_others") or record.owner_id in (None, user.id):
        return True
    return verdict is True


def require_change_right(user: User, record_type: RecordType, record: Any, action: str) -> None:
    if not may_change(user, record_type, record, action):
        if action == "update":
            raise Refused(Message("you may not update this %(type)s: it belongs to another user", type=record_type.name))
        if action == "delete":
            raise Refused(Message("you may not delete this %(type)s: it belongs to another user", type=record_type.name))
        raise Refused(Message("you may not %(action)s this %(type)s: it belongs to another user",
                                action=action, type=record_type.name))


def apply_values(record_type: RecordType, record: Any, values: Mapping[str, Any]) -> None:
    """Set ``values`` on ``record`` (the type's own ``apply`` handles derived fields)."""
    custom = record_type.api.apply if record_type.api else None
    if custom is not None:
        custom(record, dict(values))
    else:
        for field, value in values.items():
            setattr(record, field, value)


def load_for_change(model: type, record_id: int) -> Any | None:
    """The row ``record_id`` of ``model`` (``None`` if there is none), read for a change:
    locked until the transaction ends (``SELECT … FOR UPDATE``; the write lock on SQLite)
    and with the values it holds now, not those an earlier read left in the session.

    Every update and delete of a record loads it this way before checking rights and
    applying values, so concurrent changes of one record run one after the other and the
    history of each records the value it really replaced."""
    begin_writing(db.session)
    statement = (select(model).where(model.id == record_id).with_for_update(of=model)
                 .execution_options(populate_existing=True))
    return db.session.scalars(statement).unique().one_or_none()


def save_record(record_type: RecordType, record: Any, values: Mapping[str, Any], operation: str, user: User | None) -> Any:
    """Validate and apply ``values`` to ``record`` and flush it; the caller commits.

    Raises :class:`~opiekun.errors.Invalid` (nothing applied) when an id points
    nowhere, a required field is null, or a plugin refuses the record.
    """
    values = dict(values)
    if operation == "create":
        values.setdefault("owner_id", user.id if user else None)
        record.created_by_id = user.id if user else None
    problems = {**null_problems(record_type.model, values), **reference_problems(record_type.model, values)}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)
    apply_values(record_type, record, values)
    problems = current_app.extensions["opiekun.plugins"].validate_record(record_type, record, operation)
    if problems:
        raise Invalid(Message("the record cannot be saved"), problems)
    if operation == "create":
        db.session.add(record)
    db.session.flush()
    return record


def delete_record(record_type: RecordType, record: Any) -> None:
    """Delete ``record``; records pointing at it lose the link (with change events)."""
    table_name = record_type.model.__tablename__
    for other in record_types():
        for column in other.model.__table__.c:
            if any(fk.column.table.name == table_name for fk in column.foreign_keys):
                update_records(db.session, other.model, column == record.id, {column.name: None})
    db.session.delete(record)
    db.session.flush()


def close_deal(deal: Deal, outcome: str, reason: str | None) -> Deal:
    """Win or lose an open deal; plugins react through the deal-closed hook."""
    if deal.status != "open":
        if deal.status == "won":
            raise Conflict(Message("the deal is already won"))
        if deal.status == "lost":
            raise Conflict(Message("the deal is already lost"))
        raise Conflict(Message("the deal is already %(status)s", status=deal.status))
    deal.status = outcome
    deal.lost_reason = reason if outcome == "lost" else None
    deal.close_date = deal.close_date or utcnow().date()
    db.session.flush()
    current_app.extensions["opiekun.plugins"].deal_closed(db.session, deal, outcome, reason, current_actor())
    return deal


def apply_deal_values(deal: Deal, values: dict[str, Any]) -> None:
    """Deals name their stage; resolve it (and the default pipeline) to the stage row."""
    stage_name = values.pop("stage", None)
    pipeline_id = values.pop("pipeline_id", None)
    if pipeline_id is None and deal.pipeline_id is None:
        pipeline_id = db.session.scalar(select(Pipeline.id).order_by(Pipeline.id).limit(1))
        if pipeline_id is None:
            raise Invalid(Message("there is no pipeline yet; create one first"), {"pipeline_id": Message("no pipeline exists")})
    if pipeline_id is not None and pipeline_id != deal.pipeline_id:
        deal.pipeline_id = pipeline_id
        if stage_name is None:
            first = db.session.scalar(select(PipelineStage).where(PipelineStage.pipeline_id == pipeline_id).order_by(PipelineStage.position).limit(1))
            if first is None:
                raise Invalid(Message("the pipeline has no stages"), {"pipeline_id": Message("pipeline has no stages")})
            deal.stage_id = first.id
            deal.stage_ref = first
    if stage_name is not None:
        stage = db.session.scalar(select(PipelineStage).where(PipelineStage.pipeline_id == deal.pipeline_id, PipelineStage.name == stage_name))
        if stage is None:
            raise Invalid(Message("unknown stage"), {"stage": Message("the pipeline has no stage %(stage)r", stage=stage_name)})
        deal.stage_id = stage.id
        deal.stage_ref = stage
    for field, value in values.items():
        setattr(deal, field, value)


# --- the core's record types, as hook implementations ----------------------------------------

CORE_RECORD_TYPES = (
    RecordType("company", Company, "Company", "Companies", "companies",
               RecordApi(schemas.CompanyCreate, schemas.CompanyUpdate, schemas.CompanyOut, schemas.CompanyFilters),
               search_columns=("name", "tax_id", "city")),
    RecordType("person", Person, "Person", "Persons", "persons",
               RecordApi(schemas.PersonCreate, schemas.PersonUpdate, schemas.PersonOut, schemas.PersonFilters),
               search_columns=("first_name", "last_name", "email")),
    RecordType("lead", Lead, "Lead", "Leads", "leads",
               RecordApi(schemas.LeadCreate, schemas.LeadUpdate, schemas.LeadOut, schemas.LeadFilters),
               closed=lambda: Lead.status.in_(("qualified", "disqualified"))),
    RecordType("deal", Deal, "Deal", "Deals", "deals",
               RecordApi(schemas.DealCreate, schemas.DealUpdate, schemas.DealOut, schemas.DealFilters, apply=apply_deal_values),
               closed=lambda: Deal.status != "open"),
    RecordType("offer", Offer, "Offer", "Offers", "offers",
               RecordApi(schemas.OfferCreate, schemas.OfferUpdate, schemas.OfferOut, schemas.OfferFilters),
               closed=lambda: Offer.status.in_(("accepted", "rejected"))),
    RecordType("invoice", Invoice, "Invoice", "Invoices", "invoices",
               RecordApi(schemas.InvoiceCreate, schemas.InvoiceUpdate, schemas.InvoiceOut, schemas.InvoiceFilters),
               closed=lambda: Invoice.status.in_(("paid", "cancelled")), search_columns=("number",)),
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
            selected = and_(records_to_move(record_type, request.from_user_id, request.include_closed),
                            model.company_id.in_(select(Company.id).where(Company.owner_id == request.to_user_id)))
        else:
            selected = records_to_move(record_type, request.from_user_id, request.include_closed, request.share)
        moved = update_records(session, model, selected, {"owner_id": request.to_user_id})
        results.append(TransferResult(record_type.name, moved))
    return results
