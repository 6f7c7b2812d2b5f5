"""Making small plugins inside tests: a module object with a manifest and hook functions."""

from __future__ import annotations

import types
from collections.abc import Callable

from opiekun import PluginManifest, hookimpl


def make_plugin(
    name: str, *, depends: tuple[str, ...] = (), auto_install: bool = False, version: str = "0.1.0", **hooks: Callable
) -> types.ModuleType:
    """A plugin module called ``name`` implementing ``hooks`` (keyword = hook name)."""
    module = types.ModuleType(f"test_plugin_{name}")
    module.MANIFEST = PluginManifest(
        name=name, version=version, summary=f"test plugin {name}", depends=depends, auto_install=auto_install
    )
    for hook_name, function in hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))
    return module


class ChangeRecorder:
    """A plugin that keeps every ChangeSet it receives (bulk rows read while alive)."""

    def __init__(self, name: str = "recorder"):
        self.change_sets = []
        self.bulk_rows = []
        recorder = self

        def opiekun_records_changed(session, change_set):
            recorder.change_sets.append(change_set)
            for bulk in change_set.bulk:
                recorder.bulk_rows.extend(
                    (bulk.object_type, row.object_id, row.object_name, row.field, row.old, row.new)
                    for row in session.execute(bulk.field_changes())
                )

        self.module = make_plugin(name, opiekun_records_changed=opiekun_records_changed)

    def records(self, operation: str | None = None, object_type: str | None = None):
        return [
            change
            for change_set in self.change_sets
            for change in change_set.records
            if (operation is None or change.operation == operation)
            and (object_type is None or change.object_type == object_type)
        ]

    def clear(self) -> None:
        self.change_sets.clear()
        self.bulk_rows.clear()
