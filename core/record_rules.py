"""The rules of saving and deleting CRM records, which every surface (API, admin, jobs)
goes through: references must exist, owners must be active users, plugins may refuse a
record, who may change what. They live here so that the API and the admin stay thin and
agree. The core's own record types are declared in :mod:`opiekun.core_records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select

from opiekun import local_time
from opiekun.changes import current_actor, update_records
from opiekun.errors import Conflict, Invalid, Message, Refused
from opiekun.extensions import db
from opiekun.labels import record_type_label
from opiekun.lookups import noun_of
from opiekun.models import Deal, Pipeline, PipelineStage, User
from opiekun.permissions import has_permission
from opiekun.record_registry import RecordType, record_types

# --- rules ----------------------------------------------------------------------------------


def _model_for_table(table_name: str) -> type[Any] | None:
    for mapper in db.Model.registry.mappers:  # type: ignore[attr-defined]
        if getattr(mapper.class_, "__tablename__", None) == table_name:
            return mapper.class_
    return None


def reference_problems(model: type[Any], values: Mapping[str, Any]) -> dict[str, str]:
    """Problems with the ids in ``values`` that point at other rows (foreign keys).

    Unknown ids are refused; an owner must be an active user.
    """
    problems: dict[str, str] = {}
    table = model.__table__
    for field, value in values.items():
        if value is None or field not in table.c:
            continue
        for foreign_key in table.c[field].foreign_keys:
            target = _model_for_table(foreign_key.column.table.name)
            row = db.session.get(target, value) if target is not None else None
            if row is None:
                noun = noun_of(target) if target is not None else "row"
                if noun == "user":
                    problems[field] = Message("no user with id %(id)s", id=value)
                elif noun == "pipeline":
                    problems[field] = Message("no pipeline with id %(id)s", id=value)
                else:
                    problems[field] = Message("no %(type)s with id %(id)s", type=record_type_label(noun), id=value)
            elif isinstance(row, User) and field == "owner_id" and row.status != "active":
                problems[field] = Message("user %(id)s has departed and cannot own records", id=value)
    return problems


def null_problems(model: type[Any], values: Mapping[str, Any]) -> dict[str, str]:
    table = model.__table__
    return {
        field: Message("must not be null")
        for field, value in values.items()
        if value is None and field in table.c and not table.c[field].nullable
    }


def may_change(user: User, record_type: RecordType, record: Any, action: str) -> bool:
    """Whether ``user`` may ``update`` or ``delete`` ``record``: its owner, anyone when it
    has no owner, holders of ``records.edit_others``, or whom a plugin allows; a plugin's
    ``False`` forbids."""
    verdict = current_app.extensions["opiekun.plugins"].record_access(user, record_type, record, action)
    if verdict is False:
        return False
    if action == "delete" and not has_permission(user, "records.delete"):
        return False
    if has_permission(user, "records.edit_others") or record.owner_id in (None, user.id):
        return True
    return verdict is True


def require_change_right(user: User, record_type: RecordType, record: Any, action: str) -> None:
    if not may_change(user, record_type, record, action):
        if action == "update":
            raise Refused(
                Message(
                    "you may not update this %(type)s: it belongs to another user",
                    type=record_type_label(record_type.name),
                )
            )
        if action == "delete":
            raise Refused(
                Message(
                    "you may not delete this %(type)s: it belongs to another user",
                    type=record_type_label(record_type.name),
                )
            )
        raise Refused(
            Message(
                "you may not %(action)s this %(type)s: it belongs to another user", action=action, type=record_type.name
            )
        )


def apply_values(record_type: RecordType, record: Any, values: Mapping[str, Any]) -> None:
    """Set ``values`` on ``record`` (the type's own ``apply`` handles derived fields)."""
    custom = record_type.api.apply if record_type.api else None
    if custom is not None:
        custom(record, dict(values))
    else:
        for field, value in values.items():
            setattr(record, field, value)


def require_valid_values(record_type: RecordType, values: Mapping[str, Any]) -> None:
    """No required field null, no id pointing nowhere (:class:`Invalid` naming the fields)."""
    problems = {**null_problems(record_type.model, values), **reference_problems(record_type.model, values)}
    if problems:
        raise Invalid(Message("some values are not valid"), problems)


def require_plugins_accept(record_type: RecordType, record: Any, operation: str) -> None:
    """Every plugin accepts the record as it is now (hook ``opiekun_validate_record``)."""
    problems = current_app.extensions["opiekun.plugins"].validate_record(record_type, record, operation)
    if problems:
        raise Invalid(Message("the record cannot be saved"), problems)


def check_record(record_type: RecordType, record: Any, values: Mapping[str, Any], operation: str) -> None:
    """The checks of :func:`save_record` on a record whose ``values`` are already applied
    (the admin's form fills the record in first): valid values, then the plugins' word."""
    require_valid_values(record_type, values)
    require_plugins_accept(record_type, record, operation)


def save_record(
    record_type: RecordType, record: Any, values: Mapping[str, Any], operation: str, user: User | None
) -> Any:
    """Validate and apply ``values`` to ``record`` and flush it; the caller commits.

    Raises :class:`~opiekun.errors.Invalid` (nothing applied) when an id points
    nowhere, a required field is null, or a plugin refuses the record.
    """
    values = dict(values)
    added = split_added_values(record_type, values)
    if operation == "create":
        values.setdefault("owner_id", user.id if user else None)
        record.created_by_id = user.id if user else None
    require_valid_values(record_type, values)
    apply_values(record_type, record, values)
    require_plugins_accept(record_type, record, operation)
    if operation == "create":
        db.session.add(record)
    db.session.flush()
    save_added_values(record_type, record, added)
    return record


def split_added_values(record_type: RecordType, values: dict[str, Any]) -> dict[str, Any]:
    """Take the values of fields plugins add to the type (and store) out of ``values``."""
    stored = {field.name for field in record_types().fields_of(record_type) if field.save is not None}
    return {name: values.pop(name) for name in list(values) if name in stored}


def save_added_values(record_type: RecordType, record: Any, values: Mapping[str, Any]) -> None:
    """Hand the values given for fields plugins add to ``record_type`` to the plugins that
    store them (each field's ``save``), once ``record`` is flushed; a plugin refuses with
    :class:`~opiekun.errors.Invalid`, and the caller's transaction saves nothing."""
    fields = {field.name: field for field in record_types().fields_of(record_type)}
    for name, value in values.items():
        save = fields[name].save
        if save is None:
            raise Invalid(Message("some values are not valid"), {name: Message("this field cannot be changed")})
        save(record, value)


def delete_record(record_type: RecordType, record: Any) -> None:
    """Delete ``record``: the plugins first have their word (hook
    ``opiekun_record_deleting``: a refusal raises, nothing is deleted; or they clean up
    their own rows), then records pointing at it lose the link (with change events)."""
    current_app.extensions["opiekun.plugins"].record_deleting(db.session, record_type, record)
    table_name = record_type.model.__tablename__
    for other in record_types():
        for column in other.model.__table__.c:
            if any(fk.column.table.name == table_name for fk in column.foreign_keys):
                update_records(db.session, other.model, column == record.id, {column.name: None})
    db.session.delete(record)
    db.session.flush()


def closing_outcome(old_status: str | None, new_status: str | None) -> str | None:
    """``won`` or ``lost`` when a change of status from ``old_status`` (``None``: a new
    deal) to ``new_status`` closes the deal, else ``None``. The API sets a deal's status
    only through win and lose; the admin's form may set it, and then closes the deal
    through :func:`close_deal` too, so the deal-closed hook fires exactly once."""
    if old_status in (None, "open") and new_status in ("won", "lost"):
        return new_status
    return None


def close_deal(deal: Deal, outcome: str, reason: str | None) -> Deal:
    """Win or lose an open deal; plugins react through the deal-closed hook."""
    if deal.status != "open":
        if deal.status == "won":
            raise Conflict(Message("the deal is already won"))
        if deal.status == "lost":
            raise Conflict(Message("the deal is already lost"))
        raise Conflict(Message("the deal is already %(status)s", status=deal.status))
    deal.status = outcome
    deal.lost_reason = reason if outcome == "lost" else None
    deal.close_date = deal.close_date or local_time.today()
    db.session.flush()
    current_app.extensions["opiekun.plugins"].deal_closed(db.session, deal, outcome, reason, current_actor())
    return deal


def apply_deal_values(deal: Deal, values: dict[str, Any]) -> None:
    """Deals name their stage; resolve it (and the default pipeline) to the stage row."""
    stage_name = values.pop("stage", None)
    pipeline_id = values.pop("pipeline_id", None)
    if pipeline_id is None and deal.pipeline_id is None:
        pipeline_id = db.session.scalar(select(Pipeline.id).order_by(Pipeline.id).limit(1))
        if pipeline_id is None:
            raise Invalid(
                Message("there is no pipeline yet; create one first"), {"pipeline_id": Message("no pipeline exists")}
            )
    if pipeline_id is not None and pipeline_id != deal.pipeline_id:
        deal.pipeline_id = pipeline_id
        if stage_name is None:
            first = db.session.scalar(
                select(PipelineStage)
                .where(PipelineStage.pipeline_id == pipeline_id)
                .order_by(PipelineStage.position)
                .limit(1)
            )
            if first is None:
                raise Invalid(Message("the pipeline has no stages"), {"pipeline_id": Message("pipeline has no stages")})
            deal.stage_id = first.id
            deal.stage_ref = first
    if stage_name is not None:
        stage = db.session.scalar(
            select(PipelineStage).where(PipelineStage.pipeline_id == deal.pipeline_id, PipelineStage.name == stage_name)
        )
        if stage is None:
            raise Invalid(
                Message("unknown stage"), {"stage": Message("the pipeline has no stage %(stage)r", stage=stage_name)}
            )
        deal.stage_id = stage.id
        deal.stage_ref = stage
    for field, value in values.items():
        setattr(deal, field, value)
