"""Demo data: a service contract for every third company the demo hands over.

Called by ``opiekun demo`` once per database (the core remembers it ran), after the core
made its users, companies and deals; ``context`` hands them over: the team, and up to
1,000 companies and deals however many the demo made.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from opiekun.plugin import DemoContext, company_today
from opiekun_contracts.models import Contract


def demo_contracts(context: DemoContext) -> list[Contract]:
    """One contract per third company of the context, owned like the company; some
    already ended."""
    today = company_today()
    contracts = []
    for company in context.companies[::3]:
        start = today - dt.timedelta(days=context.rng.randint(30, 700))
        end = start + dt.timedelta(days=365)
        contracts.append(
            Contract(
                name=f"Umowa serwisowa — {company.name}"[:200],
                company_id=company.id,
                value=Decimal(context.rng.randrange(12, 240) * 1000),
                start_date=start,
                end_date=end,
                status="ended" if end < today else "active",
                owner_id=company.owner_id,
                created_by_id=company.owner_id,
            )
        )
    return contracts


def add_demo_contracts(context: DemoContext) -> None:
    """Add the demo contracts in the demo's transaction (the core commits it)."""
    context.session.add_all(demo_contracts(context))
    context.session.flush()
