"""What a user has: everything they own or are responsible for, per record type and kind,
from every enabled plugin (hook ``opiekun_user_items``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opiekun.plugin import Invalid, ItemCount, Message, NotFound, User, find_by_id
from opiekun.plugins.offboarding.transfers import plugin_hooks


@dataclass(frozen=True)
class Preview:
    """What a user has: per record type and kind, open and closed."""

    user: User
    include_closed: bool
    items: list[ItemCount]

    @property
    def total(self) -> int:
        return sum(item.total for item in self.items)

    def types(self) -> set[str]:
        """Record types with something to move."""
        return {item.object_type for item in self.items if item.total}

    def total_of(self, object_types: Iterable[str]) -> int:
        """Items of the given record types."""
        wanted = set(object_types)
        return sum(item.total for item in self.items if item.object_type in wanted)


def get_user(user_id: int, field_name: str | None = None) -> User:
    """The user; unknown: 404 for a user in the path, 422 naming ``field_name`` in a body."""
    user = find_by_id(User, user_id)
    if user is None:
        if field_name is None:
            raise NotFound(Message("no user with id %(id)s", id=user_id))
        raise Invalid(Message("unknown user"), {field_name: Message("no user with id %(id)s", id=user_id)})
    return user


def preview(user_id: int, include_closed: bool = True) -> Preview:
    """Everything the user owns or is responsible for, per record type and kind, from every
    enabled plugin (partners' types included); types with nothing are left out."""
    user = get_user(user_id)
    items = [item for item in plugin_hooks().user_items(user_id, include_closed) if item.total]
    return Preview(user, include_closed, items)
