"""The core's tables: users, roles, settings, notifications and the CRM records.

Every CRM record mixes in :class:`RecordMixin` (owner, author, timestamps) and names its
``object_type``; that is all the change stream, the owner filters and the offboarding
hooks need to treat a partner's record type exactly like a built-in one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from opiekun.extensions import db
from opiekun.passwords import hash_password, password_matches

if TYPE_CHECKING:
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase):
        """What ``db.Model`` (made by Flask-SQLAlchemy at run time) is to a type checker."""
else:
    Model = db.Model

BUILTIN_ROLES = ("admin", "manager", "user")
USER_STATUSES = ("active", "departed")
DEAL_STATUSES = ("open", "won", "lost")
OFFER_STATUSES = ("draft", "sent", "accepted", "rejected")
INVOICE_STATUSES = ("draft", "issued", "paid", "cancelled")
LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always handed back timezone-aware (also on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


def enum_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A CHECK constraint keeping ``column`` within ``values`` in the database itself."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_allowed")


class Role(Model):
    """A custom role: a name and the permissions (contributed by core and plugins) it grants."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(Model):
    """A person who works in Opiekun. Never deleted: a user who leaves becomes ``departed``."""

    __tablename__ = "users"
    __table_args__ = (enum_check("status", USER_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(50), default="user")
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    departed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str | None] = mapped_column(String(10))
    #: The IANA time zone the user sees and types times in; None: the deployment's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    #: Bumped to revoke every API token issued before (password change, departure).
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.token_generation = (self.token_generation or 0) + 1

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login: departed users cannot log in
        return self.status == "active"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.token_generation or 0}"

    @property
    def display_name(self) -> str:
        """How the user is shown next to records: departed users are marked as such."""
        if self.status == "departed":
            return f"departed: {self.name} ({self.email})"
        return self.name

    def __str__(self) -> str:
        return self.display_name


class Setting(Model):
    """A key/value setting (JSON value), for the core and for plugins' small settings."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)


class Notification(Model):
    """An in-app message to one user (owner released, items transferred to you, …)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginSession(Model):
    """An admin login kept on the server: the session cookie names it (by a secret whose
    hash is stored here); logging out or staying idle too long deletes it, and a copied
    cookie stops working with it (see :mod:`opiekun.login_sessions`)."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 (hex) of the secret the session cookie carries
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PluginActivity(Model):
    """Whether a plugin was last seen on or off, and since when (one row per plugin that has
    been on at least once; see :mod:`opiekun.plugin_activity`)."""

    __tablename__ = "plugin_activity"

    plugin: Mapped[str] = mapped_column(String(50), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PluginGap(Model):
    """A time a plugin was off while the rest of the deployment ran: core records changed
    without it. ``reconciled_at`` is set once the plugin has caught up with them;
    ``summary`` holds what that changed (messages as msgid and values, shown translated)."""

    __tablename__ = "plugin_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(50), index=True)
    off_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    off_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reconciled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[list | None] = mapped_column(JSON)


class RecordMixin:
    """Columns and behaviour shared by every CRM record, built-in or a partner's.

    A record class sets ``__object_type__`` (the API's ``object_type`` value) and may
    override :meth:`display_name`.
    """

    __object_type__: str = ""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def owner(cls) -> Mapped[User | None]:
        return relationship(User, foreign_keys=[cls.owner_id])  # type: ignore[list-item]

    @property
    def display_name(self) -> str:
        """How the record is named in lists, history and messages: its ``name``, else
        ``"<object_type> #<id>"``. Override it (and :meth:`display_name_expression`) when
        the model names its records otherwise."""
        return getattr(self, "name", None) or f"{self.__object_type__} #{self.id}"

    @classmethod
    def display_name_expression(cls):
        """The SQL twin of :attr:`display_name`, for set-based statements: the ``name``
        column, else ``'<object_type> #' || id`` (any model, with or without ``name``)."""
        if "name" in cls.__table__.columns:
            return cls.name
        return literal(f"{cls.__object_type__} #") + cast(cls.id, String)

    def __str__(self) -> str:
        return self.display_name


class Company(RecordMixin, Model):
    __tablename__ = "companies"
    __object_type__ = "company"

    name: Mapped[str] = mapped_column(String(200), index=True)
    tax_id: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    website: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))


class Person(RecordMixin, Model):
    __tablename__ = "persons"
    __object_type__ = "person"

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    position: Mapped[str | None] = mapped_column(String(100))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)

    company: Mapped[Company | None] = relationship(Company)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @classmethod
    def display_name_expression(cls):
        return cls.first_name + " " + cls.last_name


class Lead(RecordMixin, Model):
    __tablename__ = "leads"
    __object_type__ = "lead"
    __table_args__ = (enum_check("status", LEAD_STATUSES),)

    name: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    source: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)


class Pipeline(Model):
    """A sales process: an ordered list of stages a deal moves through."""

    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stages: Mapped[list[PipelineStage]] = relationship(
        back_populates="pipeline", order_by="PipelineStage.position", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class PipelineStage(Model):
    __tablename__ = "pipeline_stages"
    __table_args__ = (UniqueConstraint("pipeline_id", "name", name="uq_pipeline_stages_pipeline_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int | None] = mapped_column(Integer)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages")

    def __str__(self) -> str:
        return self.name


#: The currency of amounts a record states no currency for (offers, invoices).
DEFAULT_CURRENCY = "PLN"
#: Numeric columns of these names are amounts of money: shown with their currency (the
#: record's ``currency`` column, else :data:`DEFAULT_CURRENCY`).
MONEY_COLUMNS = ("value", "amount")


class Deal(RecordMixin, Model):
    __tablename__ = "deals"
    __object_type__ = "deal"
    __table_args__ = (enum_check("status", DEAL_STATUSES), Index("ix_deals_status_owner", "status", "owner_id"))

    name: Mapped[str] = mapped_column(String(200), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    pipeline_id: Mapped[int] = mapped_column(ForeignKey("pipelines.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("pipeline_stages.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY)
    status: Mapped[str] = mapped_column(String(10), default="open")
    close_date: Mapped[dt.date | None] = mapped_column(Date)
    lost_reason: Mapped[str | None] = mapped_column(String(500))

    pipeline: Mapped[Pipeline] = relationship()
    stage_ref: Mapped[PipelineStage] = relationship(lazy="joined")

    @property
    def stage(self) -> str:
        return self.stage_ref.name if self.stage_ref else ""


class Offer(RecordMixin, Model):
    __tablename__ = "offers"
    __object_type__ = "offer"
    __table_args__ = (enum_check("status", OFFER_STATUSES),)

    name: Mapped[str] = mapped_column(String(200), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


class Invoice(RecordMixin, Model):
    __tablename__ = "invoices"
    __object_type__ = "invoice"
    __table_args__ = (enum_check("status", INVOICE_STATUSES),)

    number: Mapped[str] = mapped_column(String(50), unique=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    issue_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)

    @property
    def display_name(self) -> str:
        return self.number

    @classmethod
    def display_name_expression(cls):
        return cls.number


def active_admin_count() -> int:
    return (
        db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.status == "active"))
        or 0
    )
