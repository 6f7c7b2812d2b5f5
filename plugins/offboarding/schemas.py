"""The offboarding API's request and answer models (pydantic): validated by spectree and
described in ``/api/v1/openapi.json``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, create_model

from opiekun.plugin.api import InputModel, OutputModel, Page, PageQuery, QueryId, QueryModel, RecordId, Text
from opiekun.plugins.offboarding.models import OUTCOMES, STATUSES, Transfer
from opiekun.plugins.offboarding.planning import SplitPart, TransferPlan
from opiekun.plugins.offboarding.transfers import counts_by_type

TypeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
TypeList = Annotated[list[TypeName], Field(max_length=100)]


class PreviewQuery(QueryModel):
    include_closed: bool = Field(
        True, description="count closed items too (won/lost deals, paid invoices, done tasks…)"
    )


class DepartedUserOut(OutputModel):
    id: int
    name: str
    email: str
    status: str


class ItemCountOut(OutputModel):
    object_type: str
    label: str
    kind: str = Field(description="how the user holds them: owner, responsible, deputy, planned_owner…")
    open: int
    closed: int
    total: int


class PreviewOut(OutputModel):
    user: DepartedUserOut
    include_closed: bool
    items: list[ItemCountOut]
    total: int
    transfer_under_way: int | None = Field(None, description="id of a transfer of this user still under way")


class SplitPartIn(InputModel):
    user_id: RecordId
    object_types: TypeList | None = Field(None, description="record types this user gets whole")
    share: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = Field(
        None, description="weight in the round-robin split of every type nobody gets whole (1 = an equal part)"
    )


class TransferIn(InputModel):
    from_user_id: RecordId
    to_user_id: RecordId | None = Field(None, description="one recipient of everything (or give split)")
    split: Annotated[list[SplitPartIn], Field(min_length=1, max_length=100)] | None = None
    object_types: TypeList | None = Field(None, description="default: every type the user has items of")
    include_closed: bool = Field(
        True, description="closed items too (recommended: a client who returns finds an owner)"
    )
    options: Annotated[dict[Text(50, min_length=1), bool], Field(max_length=50)] | None = Field(
        None,
        description="the switches the enabled plugins offer, by name (GET /api/v1/offboarding/options lists them "
        'with their defaults), e.g. {"promote_deputies": true}; a name no enabled plugin offers is a 422',
    )
    follow_company: bool = Field(
        False,
        description="persons, leads, deals, offers and invoices go to whoever gets "
        "their company (before the rest of their type is given or shared)",
    )
    allow_active: bool = Field(False, description="allow moving the items of a user who has not departed")

    def plan(self) -> TransferPlan:
        """The request as the planner takes it."""
        split = tuple(
            SplitPart(part.user_id, tuple(part.object_types) if part.object_types is not None else None, part.share)
            for part in self.split or ()
        )
        return TransferPlan(
            from_user_id=self.from_user_id,
            to_user_id=self.to_user_id,
            split=split,
            object_types=tuple(self.object_types) if self.object_types is not None else None,
            include_closed=self.include_closed,
            options=dict(self.options or {}),
            follow_company=self.follow_company,
            allow_active=self.allow_active,
        )


class TransferOptionOut(OutputModel):
    """A switch an enabled plugin offers on transfers (give it in ``options``)."""

    name: str
    label: str
    description: str
    default: bool


class TransferOptionsOut(Page[TransferOptionOut]):
    """A page of transfer options."""


class StepOut(OutputModel):
    position: int
    object_type: str
    to_user_id: int
    share: list[int] | None = Field(None, description="[take, of]: take of every `of` items left, in id order")
    follow_company: bool = Field(description="only the records whose company this user owns")
    moved: int | None
    done: bool


class ProgressOut(OutputModel):
    done: int
    total: int


class TransferOut(OutputModel):
    id: int
    status: Literal[STATUSES]  # type: ignore[valid-type]
    origin: str
    from_user_id: int
    from_user_name: str
    requested_by_id: int | None
    object_types: list[str]
    include_closed: bool
    options: dict
    progress: ProgressOut
    counts: dict[str, dict[str, int]] = Field(description="moved so far: {object_type: {kind: count}}")
    steps: list[StepOut]
    job_id: str | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    undone_at: dt.datetime | None
    restored: int | None = Field(None, description="after undo: items put back")
    kept: int | None = Field(None, description="after undo: items left where they were, because they changed since")

    @classmethod
    def of(cls, transfer: Transfer) -> TransferOut:
        """The answer describing ``transfer`` (its steps loaded)."""
        return cls(
            id=transfer.id,
            status=transfer.status,
            origin=transfer.origin,
            from_user_id=transfer.from_user_id,
            from_user_name=transfer.from_user.name,
            requested_by_id=transfer.requested_by_id,
            object_types=transfer.object_types,
            include_closed=transfer.include_closed,
            options=transfer.options or {},
            progress=ProgressOut(done=transfer.moved, total=max(transfer.total, transfer.moved)),
            counts=counts_by_type(transfer),
            steps=[
                StepOut(
                    position=step.position,
                    object_type=step.object_type,
                    to_user_id=step.to_user_id,
                    share=list(step.share) if step.share else None,
                    follow_company=step.follow_company,
                    moved=step.moved,
                    done=step.done_at is not None,
                )
                for step in transfer.steps
            ],
            job_id=transfer.job_id,
            error=transfer.error,
            created_at=transfer.created_at,
            started_at=transfer.started_at,
            finished_at=transfer.finished_at,
            undone_at=transfer.undone_at,
            restored=transfer.restored,
            kept=transfer.kept,
        )


class TransferBrief(OutputModel):
    id: int
    status: str
    origin: str
    from_user_id: int
    object_types: list[str]
    moved: int
    total: int
    created_at: dt.datetime
    finished_at: dt.datetime | None


TransferPage = create_model("OffboardingTransferPage", __base__=Page[TransferBrief])


class TransferListQuery(PageQuery):
    from_user_id: QueryId | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class MovedItemOut(OutputModel):
    object_type: str
    object_id: int
    object_name: str | None
    field: str = Field(
        description="the record's field that moved (owner_id…), or the kind of item a plugin moved "
        "(deputy, planned_owner…)"
    )
    old_value: int | None = Field(description="the user who had the item before the transfer")
    new_value: int | None = Field(
        description="the user who has it since (empty: the transfer ended it, e.g. a deputy period)"
    )
    moved_at: dt.datetime | None
    outcome: str | None = Field(
        None, description="after undo: restored, or why it was kept (deleted, reassigned, changed)"
    )


MovedItemPage = create_model("OffboardingMovedItemPage", __base__=Page[MovedItemOut])


class UndoOut(OutputModel):
    transfer: TransferOut
    restored: int
    kept: int
    kept_items: list[MovedItemOut] = Field(description="the first 100 items left where they were, with the reason")


class MovedItemsQuery(PageQuery):
    outcome: Literal[OUTCOMES] | None = None  # type: ignore[valid-type]
    kept: bool = Field(False, description="only the items undo left where they were")
