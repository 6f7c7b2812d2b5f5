"""Schemas of the six built-in record types: what the API accepts and answers."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from opiekun.api.schemas import (
    Day,
    Email,
    InputModel,
    Money,
    Name,
    Phone,
    QueryId,
    QueryModel,
    RecordId,
    RecordOut,
    Text,
)
from opiekun.models import DEAL_STATUSES, INVOICE_STATUSES, LEAD_STATUSES, OFFER_STATUSES

LeadStatus = Literal[LEAD_STATUSES]  # type: ignore[valid-type]
DealStatus = Literal[DEAL_STATUSES]  # type: ignore[valid-type]
OfferStatus = Literal[OFFER_STATUSES]  # type: ignore[valid-type]
InvoiceStatus = Literal[INVOICE_STATUSES]  # type: ignore[valid-type]
Currency = Text(3, min_length=3)


class OwnedInput(InputModel):
    owner_id: RecordId | None = Field(
        None, description="the owner (a user id); defaults to you on create; null: no owner"
    )


# --- companies ------------------------------------------------------------------------------


class CompanyFields(OwnedInput):
    tax_id: Text(20) | None = None
    email: Email | None = None
    phone: Phone | None = None
    website: Text(200) | None = None
    city: Text(100) | None = None
    address: Text(300) | None = None


class CompanyCreate(CompanyFields):
    name: Name


class CompanyUpdate(CompanyFields):
    name: Name | None = None


class CompanyOut(RecordOut):
    name: str
    tax_id: str | None
    email: str | None
    phone: str | None
    website: str | None
    city: str | None
    address: str | None


class CompanyFilters(QueryModel):
    city: Text(100) | None = None
    tax_id: Text(20) | None = None


# --- persons --------------------------------------------------------------------------------


class PersonFields(OwnedInput):
    email: Email | None = None
    phone: Phone | None = None
    position: Text(100) | None = None
    company_id: RecordId | None = None


class PersonCreate(PersonFields):
    first_name: Text(100, min_length=1)
    last_name: Text(100, min_length=1)


class PersonUpdate(PersonFields):
    first_name: Text(100, min_length=1) | None = None
    last_name: Text(100, min_length=1) | None = None


class PersonOut(RecordOut):
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    position: str | None
    company_id: int | None


class PersonFilters(QueryModel):
    company_id: QueryId | None = None
    email: Text(254) | None = None


# --- leads ----------------------------------------------------------------------------------


class LeadFields(OwnedInput):
    source: Text(100) | None = None
    email: Email | None = None
    phone: Phone | None = None
    company_id: RecordId | None = None
    person_id: RecordId | None = None


class LeadCreate(LeadFields):
    name: Name
    status: LeadStatus = "new"


class LeadUpdate(LeadFields):
    name: Name | None = None
    status: LeadStatus | None = None


class LeadOut(RecordOut):
    name: str
    status: str
    source: str | None
    email: str | None
    phone: str | None
    company_id: int | None
    person_id: int | None


class LeadFilters(QueryModel):
    status: LeadStatus | None = None
    company_id: QueryId | None = None


# --- deals ----------------------------------------------------------------------------------


class DealFields(OwnedInput):
    company_id: RecordId | None = None
    person_id: RecordId | None = None
    value: Money | None = None
    currency: Currency | None = None
    close_date: Day | None = None


class DealCreate(DealFields):
    name: Name
    pipeline_id: RecordId | None = Field(None, description="defaults to the first pipeline")
    stage: Text(100, min_length=1) | None = Field(
        None, description="a stage name of the pipeline; defaults to its first stage"
    )


class DealUpdate(DealFields):
    name: Name | None = None
    pipeline_id: RecordId | None = None
    stage: Text(100, min_length=1) | None = None


class DealOut(RecordOut):
    name: str
    company_id: int | None
    person_id: int | None
    pipeline_id: int
    stage_id: int
    stage: str
    value: Decimal
    currency: str
    status: str
    close_date: dt.date | None
    lost_reason: str | None


class DealFilters(QueryModel):
    status: DealStatus | None = None
    pipeline_id: QueryId | None = None
    company_id: QueryId | None = None
    person_id: QueryId | None = None


# --- offers ---------------------------------------------------------------------------------


class OfferFields(OwnedInput):
    deal_id: RecordId | None = None
    company_id: RecordId | None = None
    value: Money | None = None
    valid_until: Day | None = None


class OfferCreate(OfferFields):
    name: Name
    status: OfferStatus = "draft"


class OfferUpdate(OfferFields):
    name: Name | None = None
    status: OfferStatus | None = None


class OfferOut(RecordOut):
    name: str
    deal_id: int | None
    company_id: int | None
    status: str
    value: Decimal
    valid_until: dt.date | None


class OfferFilters(QueryModel):
    status: OfferStatus | None = None
    deal_id: QueryId | None = None
    company_id: QueryId | None = None


# --- invoices -------------------------------------------------------------------------------


class InvoiceFields(OwnedInput):
    deal_id: RecordId | None = None
    company_id: RecordId | None = None
    amount: Money | None = None
    issue_date: Day | None = None
    due_date: Day | None = None


class InvoiceCreate(InvoiceFields):
    number: Text(50, min_length=1)
    status: InvoiceStatus = "draft"


class InvoiceUpdate(InvoiceFields):
    number: Text(50, min_length=1) | None = None
    status: InvoiceStatus | None = None


class InvoiceOut(RecordOut):
    number: str
    deal_id: int | None
    company_id: int | None
    status: str
    amount: Decimal
    issue_date: dt.date | None
    due_date: dt.date | None


class InvoiceFilters(QueryModel):
    status: InvoiceStatus | None = None
    deal_id: QueryId | None = None
    company_id: QueryId | None = None
