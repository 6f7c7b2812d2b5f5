"""The records a request is about: named by id or chosen by the record list's filters (the
SQL condition that fills the core's :class:`~opiekun.changes.RecordBatch` the set-based
statements join to), and locked while their periods are written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from opiekun.plugin import Invalid, Message, NotFound, RecordType, db, is_possible_id

#: The most record ids one request may name; larger sets are chosen by filter.
MAX_IDS = 10_000


def lock_records(record_type: RecordType, ids) -> None:
    """Lock the rows of the records (``ids``: a SELECT of ids, or one id) whose periods are
    about to be written, in id order, until commit: two requests giving periods to one record
    go one after the other, so the second one's overlap check sees the first one's periods.
    (Owner changes through the record itself hold this lock already; SQLite has one writer.)"""
    model = record_type.model
    condition = model.id == ids if isinstance(ids, int) else model.id.in_(ids)
    db.session.execute(select(model.id).where(condition).order_by(model.id).with_for_update())


def listed_ids(ids: Sequence[int]) -> str:
    """Ids for a refusal: the first 20, then "…" when there are more."""
    return ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")


def target_condition(
    record_type: RecordType, object_ids: Sequence[int] | None, filter_values: Mapping[str, Any] | None
):
    """The SQL condition choosing the records of a request: named ids (all must exist) or
    the same filters as the record list (``owner_id``, ``owner_status``, ``q``, the type's own)."""
    model = record_type.model
    if (object_ids is None) == (filter_values is None):
        raise Invalid(Message("name the records"), {"object_ids": Message("send either object_ids or filter")})
    if object_ids is not None:
        ids = sorted(set(object_ids))
        if not ids:
            raise Invalid(Message("name the records"), {"object_ids": Message("must not be empty")})
        if len(ids) > MAX_IDS:
            raise Invalid(
                Message("too many ids"),
                {"object_ids": Message("at most %(count)s ids per request; choose more with filter", count=MAX_IDS)},
            )
        possible = [value for value in ids if is_possible_id(value)]
        found = set(db.session.scalars(select(model.id).where(model.id.in_(possible))))
        missing = [value for value in ids if value not in found]
        if missing:
            raise NotFound(
                Message("some %(types)s do not exist", types=record_type.label_plural.lower()),
                {"object_ids": Message("no %(type)s with id %(ids)s", type=record_type.name, ids=listed_ids(missing))},
            )
        return model.id.in_(ids)
    return model.id.in_(filter_statement(record_type, filter_values))


def filter_statement(record_type: RecordType, filter_values: Mapping[str, Any]):
    """The ids a record list would show for ``filter_values`` (all pages).

    The values are checked by the record list's own query model (the API's
    ``RecordListQuery`` with the type's filters), so that a filter means and refuses the same
    here as on the list: the rules of its fields are written there once, and the domain has
    no model of its own to check them with (yet)."""
    from pydantic import ValidationError

    from opiekun.plugin import filtered_records, record_types
    from opiekun.plugin.api import record_list_query

    query_model = record_list_query(
        f"Ownership{record_type.name.title()}", record_type, record_types().fields_of(record_type)
    )
    try:
        query = query_model.model_validate(dict(filter_values))
    except ValidationError as error:
        fields = {
            "filter." + ".".join(str(part) for part in problem["loc"]): problem["msg"] for problem in error.errors()
        }
        raise Invalid(Message("the filter is not valid"), fields) from None
    if query.page != 1 or query.per_page != 50 or query.sort:
        raise Invalid(
            Message("the filter is not valid"),
            {"filter": Message("page, per_page and sort do not apply: the filter covers all pages")},
        )
    return filtered_records(record_type, query).with_only_columns(record_type.model.id).order_by(None)
