"""Visit plans: every how many days a company should be visited (the field
``visit_every_days`` the plugin adds to companies)."""

from __future__ import annotations

from sqlalchemy import delete, select

from opiekun.plugin import Company, Invalid, Message, db
from tests.support.visits_plugin.models import VisitPlan


def every_days_of_company():
    """The field as SQL, for one company of the enclosing query."""
    return select(VisitPlan.every_days).where(VisitPlan.company_id == Company.id).scalar_subquery()


def plan_visits(company: Company, every_days: int | None) -> None:
    """Keep ``company``'s plan (``None`` removes it); 1 to 365 days, else :class:`Invalid`."""
    if every_days is not None and not 1 <= every_days <= 365:
        raise Invalid(Message("the plan is not valid"), {"visit_every_days": Message("must be 1 to 365 days")})
    db.session.execute(delete(VisitPlan).where(VisitPlan.company_id == company.id))
    if every_days is not None:
        db.session.add(VisitPlan(company_id=company.id, every_days=every_days))
    db.session.flush()
