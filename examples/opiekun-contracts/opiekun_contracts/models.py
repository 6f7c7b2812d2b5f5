"""The plugin's one table: contracts signed with companies.

Imported only by the plugin's hooks (never by its top module), so that a deployment with
the plugin switched off never sees the ``contracts`` table.

Mixing in :class:`opiekun.models.RecordMixin` is what makes a contract a CRM record like
the core's: it brings ``id``, ``owner_id``, ``created_by_id``, ``created_at`` and
``updated_at``, and with them the owner filters, the change stream (audit) and
offboarding, once the type is registered in ``opiekun_record_types``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opiekun.plugin import Company, RecordMixin, db, enum_check

#: ``active`` until the end date passes (the daily job then sets ``ended``).
CONTRACT_STATUSES = ("active", "ended")


class Contract(RecordMixin, db.Model):
    """A contract with a company: what it is worth and when it runs.

    ``end_date`` is the last day of the contract; ``None`` means open-ended.
    """

    __tablename__ = "contracts"
    __object_type__ = "contract"
    __table_args__ = (
        enum_check("status", CONTRACT_STATUSES),
        # what the daily job looks for: active contracts past their end date
        Index("ix_contracts_status_end_date", "status", "end_date"),
    )

    name: Mapped[str] = mapped_column(String(200), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active")

    company: Mapped[Company | None] = relationship(Company)
