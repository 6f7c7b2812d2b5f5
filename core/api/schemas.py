"""Building blocks of the API's pydantic schemas, shared by the core and plugins.

Inputs forbid unknown fields, bound every string and number, and refuse text a database
or an export would choke on (NUL bytes, other control characters, lone surrogates), so bad
input is a 422, never a 500.
"""

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from opiekun.lookups import MAX_ID

MAX_PER_PAGE = 500


#: C0 control characters but tab, line feed and carriage return: no one types them, XML
#: (an .xlsx file) cannot hold them, and a spreadsheet or terminal may act on them.
CONTROL_CHARACTERS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")


def _storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (only tab and line breaks are allowed)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("must be valid Unicode text") from error
    return value


def Text(max_length: int, min_length: int = 0) -> Any:  # noqa: N802 - used like a type
    """A string of at most ``max_length`` characters, trimmed, storable in every database."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_storable_text),
    ]


Name = Text(200, min_length=1)
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(_storable_text),
]
Phone = Text(50)
RecordId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False, ge=Decimal("-999999999999.99"))]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class OutputModel(BaseModel):
    """Base of answers: read from ORM objects' attributes."""

    model_config = ConfigDict(from_attributes=True)


class QueryModel(BaseModel):
    """Base of query strings: unknown parameters are an error too (a typo is not a filter)."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(QueryModel):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


def _user_id_or_none(value: str) -> str:
    if value != "none" and int(value) > MAX_ID:
        raise ValueError(f"must be `none` or a user id up to {MAX_ID}")
    return value


OwnerFilter = Annotated[str, StringConstraints(pattern=r"^(none|[1-9][0-9]{0,9})$"), AfterValidator(_user_id_or_none)]


class RecordListQuery(PageQuery):
    """Filters every record list has: owner, no owner, departed owner, name search."""

    owner_id: OwnerFilter | None = Field(None, description="a user id, or `none` for records without an owner")
    owner_status: Annotated[str, StringConstraints(pattern=r"^(active|departed)$")] | None = None
    q: Text(200) | None = Field(None, description="search in names")
    sort: Annotated[str, StringConstraints(pattern=r"^-?[a-z_]{1,40}$")] | None = Field(
        None, description="field to sort by, `-field` for descending (default: newest first)"
    )

    @field_validator("owner_id")
    @classmethod
    def owner_id_fits_an_id(cls, value: str | None) -> str | None:
        """Ten digits may exceed the largest id; such an owner cannot exist (422, not a
        database error)."""
        if value is not None and value != "none" and int(value) > MAX_ID:
            raise ValueError(f"must be a user id (at most {MAX_ID}) or 'none'")
        return value

    def field_filters(self) -> dict[str, Any]:
        """The record type's own filters that are set (the parameters a subclass adds),
        for :func:`opiekun.record_queries.filtered_records`."""
        return {
            field: value
            for field, value in self.model_dump(exclude_none=True).items()
            if field not in RecordListQuery.model_fields
        }


class RecordOut(OutputModel):
    """Fields every record answers with."""

    id: int
    owner_id: int | None
    created_by_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: every list answers in this shape (``class VisitPage(Page[VisitOut])``)."""

    items: list[ItemT]
    total: int = Field(description="How many items all pages hold (an estimate when total_is_estimate)")
    page: int
    per_page: int
    total_is_estimate: bool = Field(
        False,
        description="true when more items match than the deployment counts exactly "
        "(OPIEKUN_EXACT_COUNT_LIMIT, default 10,000): total is then the database's estimate, "
        "never below that limit + 1",
    )


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = {}


class ErrorBody(BaseModel):
    error: ErrorDetail


#: An id in a query string (arrives as text, so not strict).
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]


# --- the fields plugins add to a record type (opiekun_record_fields) -------------------------


#: what an added field of each Python type takes in a filter or a body: bounded like every
#: input (``strict``: in a JSON body, where ``true`` is no number and ``"7"`` no integer)
def added_input(value_type: type, *, strict: bool = False) -> Any:
    inputs: dict[type, Any] = {
        int: Annotated[int, Field(ge=-(2**53), le=2**53, strict=strict)],
        float: Annotated[float, Field(ge=-(2.0**53), le=2.0**53, allow_inf_nan=False, strict=strict)],
        Decimal: Annotated[Decimal, Field(max_digits=20, allow_inf_nan=False)],
        bool: Annotated[bool, Field(strict=strict)],
        dt.date: Day,
        dt.datetime: dt.datetime,
    }
    return inputs.get(value_type, Text(200))


def record_list_query(title: str, record_type: Any, added: Sequence[Any] = ()) -> type[RecordListQuery]:
    """The query parameters of ``record_type``'s list: those of every list, the type's own
    filters, and for each added field with an ``expression`` its value (and ``_min`` /
    ``_max`` for numbers and dates). The API's list and the "records matching a filter" of
    bulk work read the same model, so a filter means the same in both."""
    api = record_type.api
    bases = (RecordListQuery, api.filters) if api is not None and api.filters else (RecordListQuery,)
    parameters: dict[str, Any] = {}
    for field in added:
        if not field.filterable:
            continue
        value = added_input(field.type) | None
        parameters[field.name] = (value, Field(None, description=f"only records whose {field.name} is this"))
        if field.ranged:
            parameters[f"{field.name}_min"] = (value, Field(None, description=f"{field.name} at least this"))
            parameters[f"{field.name}_max"] = (value, Field(None, description=f"{field.name} at most this"))
    return create_model(f"{title}ListQuery", __base__=bases, **parameters)


def with_added_fields(name: str, body: type[BaseModel], added: Sequence[Any]) -> type[BaseModel]:
    """``body`` (a record type's create or update schema), taking also the added fields a
    plugin stores (those with ``save``), each optional."""
    stored = {
        field.name: (added_input(field.type, strict=True) | None, Field(None, description=field.description or None))
        for field in added
        if field.save is not None
    }
    return create_model(name, __base__=body, **stored) if stored else body
