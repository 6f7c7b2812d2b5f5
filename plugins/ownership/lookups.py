"""What a request names, looked up by name or id: a record type, the user who is to own
records, the acting user, one assignment. Each refuses what does not exist (404 or 422);
the ids go through the core's :mod:`opiekun.lookups`, which knows which ids can exist."""

from __future__ import annotations

from opiekun.plugin import (
    Invalid,
    Message,
    NotFound,
    RecordType,
    User,
    current_actor,
    find_by_id,
    get_by_id,
    record_types,
)
from opiekun.plugins.ownership.models import OwnerAssignment


def record_type_named(name: str, *, status: int = 422, field: str = "object_type") -> RecordType:
    """The registered record type ``name``; unknown, a 422 naming ``field`` (or a 404 with
    ``status=404``, where the type is part of the URL)."""
    record_type = record_types().get(name)
    if record_type is None:
        message = Message(
            "unknown record type %(name)r; known: %(known)s", name=name, known=", ".join(record_types().names())
        )
        if status == 404:
            raise NotFound(message, {field: Message("unknown record type")})
        raise Invalid(Message("unknown record type"), {field: message})
    return record_type


def new_owner(user_id: int, field: str = "user_id") -> User:
    """The user who is to look after records: must exist and be active."""
    user = find_by_id(User, user_id)
    if user is None:
        raise Invalid(Message("unknown user"), {field: Message("no user with id %(id)s", id=user_id)})
    if user.status != "active":
        raise Invalid(
            Message("the user has departed"),
            {
                field: Message(
                    "user %(id)s (%(name)s) has departed and cannot own records", id=user_id, name=user.display_name
                )
            },
        )
    return user


def acting_user() -> User | None:
    """The user the current change is made by (``None``: a job or the system)."""
    actor = current_actor()
    return find_by_id(User, actor.user_id) if actor.user_id else None


def get_assignment(assignment_id: int) -> OwnerAssignment:
    """The owner period ``assignment_id`` (404 when there is none)."""
    return get_by_id(OwnerAssignment, assignment_id, Message("no owner assignment with id %(id)s", id=assignment_id))
