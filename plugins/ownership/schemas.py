"""What the ownership API accepts and answers, as pydantic models: the same declarations
validate requests and describe the routes in ``/api/v1/openapi.json``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, create_model, model_validator

from opiekun.plugin.api import Day, InputModel, OutputModel, Page, PageQuery, QueryId, QueryModel, RecordId, Text
from opiekun.plugins.ownership.targets import MAX_IDS

ObjectType = Text(50, min_length=1)
RoleName = Text(50, min_length=1)
Kind = Literal["primary", "deputy"]
Access = Literal["read", "write"]
OverlapPolicy = Literal["keep", "warn", "replace"]


class OwnerSettingsOut(OutputModel):
    object_type: str
    owner_required: bool
    inactivity_days: int | None
    change_roles: list[str] | None = Field(description="roles allowed to change owners; null: every role")


class OwnerSettingsList(Page[OwnerSettingsOut]):
    """A page of per-type ownership settings."""


class OwnerSettingsUpdate(InputModel):
    owner_required: bool | None = None
    inactivity_days: int | None = Field(
        None, ge=1, le=3650, description="release the owner after that many days without activity; null: never"
    )
    change_roles: list[RoleName] | None = Field(None, max_length=100, description="null: every role may change owners")


class OptionsOut(OutputModel):
    roles: list[str] = Field(description="the owner roles to choose from (sales, legal, …)")
    show_departed: bool = Field(description="list departed users in owner filters and reports")


class OptionsUpdate(InputModel):
    roles: list[RoleName] | None = Field(None, min_length=1, max_length=100)
    show_departed: bool | None = None


class AssignmentOut(OutputModel):
    id: int
    object_type: str
    object_id: int
    user_id: int
    kind: str
    role: str
    valid_from: dt.date
    valid_to: dt.date | None
    access: str
    created_by_id: int | None
    created_at: dt.datetime


AssignmentPage = create_model("OwnerAssignmentPage", __base__=Page[AssignmentOut])


class AssignmentQuery(PageQuery):
    object_type: ObjectType | None = None
    object_id: QueryId | None = None
    user_id: QueryId | None = None
    kind: Kind | None = None
    at: Day | None = Field(None, description="only periods in force on that day")


class AssignmentCreate(InputModel):
    object_type: ObjectType
    object_ids: list[RecordId] | None = Field(
        None, min_length=1, max_length=MAX_IDS, description=f"at most {MAX_IDS}; use filter for more"
    )
    filter: dict[str, Any] | None = Field(
        None,
        description="the record list's filters (owner_id, owner_status, q, the type's own): every matching record, all pages",
    )
    user_id: RecordId
    kind: Kind = "primary"
    role: RoleName | None = Field(None, description="one of the configured roles; default: the first")
    valid_from: Day | None = Field(None, description="default: today")
    valid_to: Day | None = Field(None, description="last day; null: indefinite")
    access: Access | None = Field(None, description="deputies: read or write (default write)")
    on_overlap: OverlapPolicy = "warn"

    @model_validator(mode="after")
    def records_named_once(self):
        if (self.object_ids is None) == (self.filter is None):
            raise ValueError("send either object_ids or filter")
        return self


class AssignmentCounts(OutputModel):
    object_type: str
    matched: int
    created: int
    skipped: int
    replaced: int
    #: records that already had this owner for the whole period: nothing was written
    unchanged: int


class AssignmentUpdate(InputModel):
    user_id: RecordId | None = None
    role: RoleName | None = None
    valid_from: Day | None = None
    valid_to: Day | None = None
    access: Access | None = None


class OwnerQuery(QueryModel):
    object_type: ObjectType
    object_id: QueryId
    at: Day | None = Field(None, description="default: today")


class OwnerOut(OutputModel):
    object_type: str
    object_id: int
    at: dt.date
    owner_id: int | None
    primary: AssignmentOut | None
    deputies: list[AssignmentOut]


class PortfolioQuery(PageQuery):
    user_id: QueryId
    from_: Day | None = Field(None, alias="from", description="default: today")
    to: Day | None = Field(None, description="default: the same day as from")
    kind: Kind | None = None
    object_type: ObjectType | None = None


class PortfolioItem(AssignmentOut):
    object_name: str | None
    user_name: str


PortfolioPage = create_model("OwnerPortfolioPage", __base__=Page[PortfolioItem])
