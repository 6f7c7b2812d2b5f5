"""The rules about contracts, in one place: the API, the admin, the job and the command
line all come here, so they cannot disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, select

from opiekun.plugin import Company, Conflict, PluralMessage, User, db, update_records
from opiekun_contracts.models import Contract


def date_problems(contract: Contract) -> dict[str, str]:
    """``{field: problem}`` when the contract's dates contradict each other."""
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        return {"end_date": f"must not be before start_date ({contract.start_date.isoformat()})"}
    return {}


def active_contracts_of_company():
    """How many active contracts a company has, as SQL for one company of the enclosing
    query: the field ``active_contracts`` this plugin adds to companies. The core reads a
    page's values through it (with the page's rows in the API) and filters by it
    (``?active_contracts_min=1``)."""
    return (
        select(func.count(Contract.id))
        .where(Contract.company_id == Company.id, Contract.status == "active")
        .scalar_subquery()
    )


def refuse_deleting_a_company_with_active_contracts(company: Company) -> None:
    """A company with active contracts stays until they end (raises
    :class:`~opiekun.errors.Conflict`); its ended contracts just lose the link (the core
    clears links of record types to a deleted record)."""
    active = db.session.scalar(
        select(func.count()).where(Contract.company_id == company.id, Contract.status == "active")
    )
    if active:
        raise Conflict(
            PluralMessage(
                "%(name)s has %(num)d active contract: end it first",
                "%(name)s has %(num)d active contracts: end them first",
                active,
                name=company.name,
            )
        )


def end_expired_contracts(today: dt.date) -> int:
    """End every active contract whose last day is before ``today``; returns how many.

    One set-based ``UPDATE`` through :func:`opiekun.changes.update_records`, which also
    tells the change stream (audit) what changed and who did it — never loop over ORM
    objects for work over many rows.
    """
    expired = and_(Contract.status == "active", Contract.end_date < today)
    return update_records(db.session, Contract, expired, {"status": "ended"})


@dataclass(frozen=True)
class StatusTotal:
    """How many contracts have one status, and what they are worth together."""

    status: str
    count: int
    value: Decimal


@dataclass(frozen=True)
class EndingContract:
    """An active contract that ends soon (for the report)."""

    name: str
    company: str | None
    owner: str | None
    end_date: dt.date


def totals_by_status() -> list[StatusTotal]:
    """Count and value of the contracts per status, in one grouped query."""
    rows = db.session.execute(
        select(Contract.status, func.count(), func.coalesce(func.sum(Contract.value), 0))
        .group_by(Contract.status)
        .order_by(Contract.status)
    )
    return [StatusTotal(status, count, Decimal(value)) for status, count, value in rows]


def ending_within(today: dt.date, days: int) -> list[EndingContract]:
    """Active contracts whose last day is between ``today`` and ``days`` days later."""
    rows = db.session.execute(
        select(Contract.name, Company.name, User.name, Contract.end_date)
        .outerjoin(Company, Contract.company_id == Company.id)
        .outerjoin(User, Contract.owner_id == User.id)
        .where(Contract.status == "active", Contract.end_date.between(today, today + dt.timedelta(days=days)))
        .order_by(Contract.end_date, Contract.id)
    )
    return [EndingContract(*row) for row in rows]
