"""Settings kept in the database (table ``settings``: a key and a JSON value), read and
written the same way by the core and by every plugin.

A plugin declares each of its settings once, under its own prefix, with the value it has
while nobody has saved one::

    from opiekun.stored_settings import SettingsStore

    SETTINGS = SettingsStore("ownership")
    ROLES = SETTINGS.setting("roles", default=["sales", "legal"])   # key "ownership.roles"

    ROLES.read()              # the saved list, or the default
    ROLES.write(["sales"])    # in the caller's transaction; the caller commits
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from opiekun.extensions import db
from opiekun.models import Setting

ValueT = TypeVar("ValueT")


@dataclass(frozen=True)
class StoredSetting(Generic[ValueT]):
    """One setting: its key in table ``settings`` and the value it has until one is saved.

    The value must be JSON: a number, text, boolean, list or dict.
    """

    key: str
    default: ValueT

    def read(self) -> ValueT:
        """The saved value, or :attr:`default` when none is saved (or the saved one is null)."""
        row = db.session.get(Setting, self.key)
        return self.default if row is None or row.value is None else row.value  # type: ignore[return-value]

    def write(self, value: ValueT | None) -> None:
        """Save ``value`` in the current transaction (the caller flushes or commits);
        ``None`` forgets the saved value, so the setting reads as its default again."""
        row = db.session.get(Setting, self.key)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(Setting(key=self.key, value=value))
        else:
            row.value = value  # type: ignore[assignment]


class SettingsStore:
    """The settings of one plugin (or part of the core), kept under ``<prefix>.<name>``."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def key(self, name: str) -> str:
        """The key of the setting ``name`` in table ``settings``."""
        return f"{self.prefix}.{name}"

    def setting(self, name: str, default: ValueT) -> StoredSetting[ValueT]:
        """Declare the setting ``name`` with the value it has until one is saved."""
        return StoredSetting(self.key(name), default)


__all__ = ["SettingsStore", "StoredSetting"]
