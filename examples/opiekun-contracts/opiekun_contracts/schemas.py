"""What the API accepts and answers for contracts, as pydantic models.

The core builds ``/api/v1/contracts`` (list, create, read, change, delete) from these four
models and describes it in ``/api/v1/openapi.json``: one declaration, no hand-kept copy.
The building blocks come from :mod:`opiekun.api.schemas`, so bad input (a string too long,
an id that is not a number, an unknown field) is a 422 naming the field, never a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field

from opiekun.plugin.api import Day, InputModel, Money, QueryId, QueryModel, RecordId, RecordOut, Text

ContractName = Text(200, min_length=1)
ContractStatus = Literal["active", "ended"]


class ContractFields(InputModel):
    """Fields that are optional both when creating and when changing a contract."""

    owner_id: RecordId | None = Field(
        None, description="the owner (a user id); defaults to you on create; null: no owner"
    )
    value: Money | None = Field(None, description="the contract's value; defaults to 0")
    end_date: Day | None = Field(None, description="the last day of the contract; null: open-ended")


class ContractCreate(ContractFields):
    """Body of ``POST /api/v1/contracts``."""

    name: ContractName
    company_id: RecordId = Field(description="the company the contract is signed with")
    start_date: Day
    status: ContractStatus = "active"


class ContractUpdate(ContractFields):
    """Body of ``PATCH /api/v1/contracts/{id}``: only the fields sent are changed."""

    name: ContractName | None = None
    company_id: RecordId | None = None
    start_date: Day | None = None
    status: ContractStatus | None = None


class ContractOut(RecordOut):
    """One contract in answers (``RecordOut`` adds id, owner, author and timestamps)."""

    name: str
    company_id: int | None
    value: Decimal
    start_date: dt.date
    end_date: dt.date | None
    status: str


class ContractFilters(QueryModel):
    """List filters on top of the core's (``owner_id``, ``owner_status``, ``q``, ``sort``)."""

    status: ContractStatus | None = None
    company_id: QueryId | None = None
