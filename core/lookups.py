"""Finding one row by its id, the same way everywhere: the bound of ids checked in one
place, a refusal that names what is missing, and the locked read every change starts with.

A partner's service::

    from opiekun.lookups import get_by_id

    contract = get_by_id(Contract, contract_id)      # NotFound (the API's 404) if none
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select

from opiekun.changes import begin_writing
from opiekun.errors import Message, NotFound
from opiekun.extensions import db
from opiekun.labels import record_type_label

#: The largest id a 32-bit integer column holds; larger ids cannot exist.
MAX_ID = 2_147_483_647

ModelT = TypeVar("ModelT")


def is_possible_id(value: int) -> bool:
    """Whether a row can have the id ``value`` (1 to :data:`MAX_ID`). Other numbers find
    nothing without asking the database, which may not even accept them as parameters."""
    return 0 < value <= MAX_ID


def load_for_change(model: type[ModelT], record_id: int) -> ModelT | None:
    """The row ``record_id`` of ``model`` (``None`` if there is none), read for a change:
    locked until the transaction ends (``SELECT … FOR UPDATE``; the write lock on SQLite)
    and with the values it holds now, not those an earlier read left in the session.

    Every update and delete of a record loads it this way before checking rights and
    applying values, so concurrent changes of one record run one after the other and the
    history of each records the value it really replaced."""
    begin_writing(db.session)
    statement = (
        select(model)
        .where(model.id == record_id)  # type: ignore[attr-defined]
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(statement).unique().one_or_none()


def find_by_id(model: type[ModelT], object_id: int, *, for_change: bool = False) -> ModelT | None:
    """The row of ``model`` with the id ``object_id``, or ``None`` (also for an id no row
    can have). ``for_change``: read it locked, as :func:`load_for_change` does."""
    if not is_possible_id(object_id):
        return None
    if for_change:
        return load_for_change(model, object_id)
    return db.session.get(model, object_id)


def get_by_id(model: type[ModelT], object_id: int, not_found: str | None = None, *, for_change: bool = False) -> ModelT:
    """The row of ``model`` with the id ``object_id``; :class:`~opiekun.errors.NotFound`
    when there is none. ``not_found`` is the refusal's text (default: "no <table noun>
    with id <id>"; pass a :class:`~opiekun.errors.Message` of your own so that the admin can
    translate it). ``for_change``: read it locked, as :func:`load_for_change` does."""
    row = find_by_id(model, object_id, for_change=for_change)
    if row is None:
        raise NotFound(
            not_found or Message("no %(type)s with id %(id)s", type=record_type_label(noun_of(model)), id=object_id)
        )
    return row


def noun_of(model: type) -> str:
    """How refusals name a row of ``model``: a record class's ``__object_type__``, else the
    class name in lower case."""
    return getattr(model, "__object_type__", "") or model.__name__.lower()
