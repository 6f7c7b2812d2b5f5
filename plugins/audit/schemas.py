"""The audit API's request and answer models (pydantic): validated by spectree and
described in ``/api/v1/openapi.json``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, create_model

from opiekun.plugin.api import Day, InputModel, OutputModel, Page, PageQuery, QueryId, QueryModel, RecordId
from opiekun.plugins.audit.history import HistoryFilter

TypeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
OperationName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,49}$")]


class FilterFields(QueryModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: Day | None = Field(None, alias="from", description="first day (YYYY-MM-DD, UTC)")
    date_to: Day | None = Field(None, alias="to", description="last day (YYYY-MM-DD, UTC), included")
    user_id: QueryId | None = Field(None, description="who acted (departed users included)")
    object_type: TypeName | None = None
    object_id: QueryId | None = None
    operation: OperationName | None = Field(None, description="create, update, delete, anonymize, relation_added…")

    def history_filter(self) -> HistoryFilter:
        """The query's filters as the history reads them."""
        return HistoryFilter(
            self.date_from, self.date_to, self.user_id, self.object_type, self.object_id, self.operation
        )


class HistoryQuery(PageQuery, FilterFields):
    pass


class ExportQuery(FilterFields):
    background: bool = Field(False, description="run as a background job even for a small result")


class FieldChangeOut(OutputModel):
    field: str
    field_label: str | None = None
    old: Any = None
    new: Any = None
    old_label: str | None = None
    new_label: str | None = None


class EntryOut(OutputModel):
    id: int
    at: dt.datetime
    user_id: int | None
    user_name: str | None
    job: str | None
    object_type: str
    object_id: int | None
    object_name: str | None
    object_url: str | None
    operation: str
    changes: list[FieldChangeOut]
    context: dict | None
    hash: str | None


class GapOut(OutputModel):
    """A time the history was not recorded: the audit plugin was off, so changes made then
    have no entries."""

    off_from: dt.datetime
    off_until: dt.datetime


EntryPage = create_model(
    "AuditEntryPage",
    __base__=Page[EntryOut],
    gaps=(
        list[GapOut],
        Field(
            default_factory=list,
            description="times within the filter's days when the history was not recorded (the plugin was off)",
        ),
    ),
)


class ExportStarted(OutputModel):
    job_id: str
    status: str
    status_url: str
    download_url: str


class ExportState(OutputModel):
    job_id: str
    status: str
    progress_done: int
    progress_total: int | None
    rows: int | None = None
    download_url: str | None = None
    error: str | None = None


class ExportRequest(InputModel):
    filters: dict[str, str | int] = Field(default_factory=dict, description="the same names as the list's query")


class VerifyOut(OutputModel):
    ok: bool
    checked: int
    head_hash: str
    bad_entry_id: int | None
    problem: str | None
    message: str


class TypeSettingsOut(OutputModel):
    object_type: str
    operations: list[str] | None
    excluded_fields: list[str]


class TypeSettingsUpdate(InputModel):
    operations: list[OperationName] | None = Field(None, description="operations to record; null: all")
    excluded_fields: list[Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]] | None = None


class RetentionOut(OutputModel):
    retention_months: int | None


class RetentionUpdate(InputModel):
    retention_months: Annotated[int, Field(ge=1, le=1200)] | None = Field(
        None, description="purge entries older than this many months every night; null: keep everything"
    )


class AnonymizeRequest(InputModel):
    object_type: TypeName
    object_id: RecordId


class AnonymizeOut(OutputModel):
    person_id: int
    rewritten_entries: int
