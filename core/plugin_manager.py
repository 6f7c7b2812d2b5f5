"""Finding, ordering and calling plugins.

Plugins — built-in and partners' alike — are found through the entry-point group
``opiekun.plugins``: each entry point names a module with a ``MANIFEST``. The deployment
chooses them with ``OPIEKUN_PLUGINS`` (default: every installed plugin whose dependencies
are installed). :class:`PluginHost` is the only place that spells hook names: the rest of
the core calls its typed methods.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from opiekun import PROJECT_NAME, hookspecs
from opiekun.manifest import PluginManifest

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from flask_admin import Admin, BaseView
    from sqlalchemy import Select
    from sqlalchemy.orm import Session
    from wtforms import Form

    from opiekun.admin.actions import BulkAction
    from opiekun.admin.home import HomePanel
    from opiekun.changes import Actor, ChangeSet
    from opiekun.demo import DemoContext
    from opiekun.errors import Message
    from opiekun.jobs import JobDefinition, Schedule
    from opiekun.models import Deal, PluginGap, User
    from opiekun.permissions import Permission
    from opiekun.record_registry import RecordField, RecordType
    from opiekun.user_items import ItemCount, TransferOption, TransferRequest, TransferResult, UndoRequest

ENTRY_POINT_GROUP = "opiekun.plugins"

#: The core's own hook implementations, registered first under the name "core".
CORE_HOOK_MODULES = ("opiekun.core_records", "opiekun.core_permissions")

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A plugin cannot be enabled; the message names the plugin and says why."""


@dataclass(frozen=True)
class Plugin:
    """An installed plugin: its manifest, its module and where it comes from."""

    manifest: PluginManifest
    module: ModuleType
    distribution: str | None

    @property
    def name(self) -> str:
        return self.manifest.name


def _plugin_of_module(module: ModuleType, source: str) -> Plugin:
    manifest = getattr(module, "MANIFEST", None)
    if not isinstance(manifest, PluginManifest):
        raise PluginError(f"plugin {source!r} has no MANIFEST = PluginManifest(...)")
    return Plugin(manifest, module, None)


def discover_plugins(extra_modules: Iterable[str | ModuleType] = ()) -> dict[str, Plugin]:
    """Every installed plugin, by name (importing only their top modules).

    ``extra_modules`` (dotted names or modules; ``OPIEKUN_PLUGIN_MODULES``) are plugins
    used without being installed as distributions — a partner's plugin under development,
    or a test's.
    """
    found: dict[str, Plugin] = {}
    for extra in extra_modules:
        try:
            module = importlib.import_module(extra) if isinstance(extra, str) else extra
        except ImportError as error:
            raise PluginError(f"plugin module {extra!r} cannot be imported: {error}") from error
        plugin = _plugin_of_module(module, getattr(module, "__name__", str(extra)))
        if plugin.name in found:
            raise PluginError(f"two plugins are called {plugin.name!r}")
        found[plugin.name] = plugin
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module = entry_point.load()
        except Exception as error:  # noqa: BLE001 - a broken plugin must name itself
            raise PluginError(f"plugin {entry_point.name!r} cannot be imported: {error}") from error
        manifest = getattr(module, "MANIFEST", None)
        if not isinstance(manifest, PluginManifest):
            raise PluginError(
                f"plugin {entry_point.name!r} ({entry_point.value}) has no MANIFEST = PluginManifest(...)"
            )
        if manifest.name != entry_point.name:
            raise PluginError(
                f"plugin entry point {entry_point.name!r} declares the name {manifest.name!r}; they must match"
            )
        if manifest.name in found and found[manifest.name].module is not module:
            raise PluginError(f"two installed plugins are called {manifest.name!r}")
        distribution = entry_point.dist.name if entry_point.dist else None
        found[manifest.name] = Plugin(manifest, module, distribution)
    return found


def resolve_plugins(
    installed: Mapping[str, Plugin], requested: Iterable[str] | None, disabled: Iterable[str] = ()
) -> tuple[list[Plugin], dict[str, str]]:
    """Which plugins run, in dependency order, and why the others do not.

    ``requested`` is ``OPIEKUN_PLUGINS`` as a list, or ``None`` for "all installed";
    ``disabled`` (``OPIEKUN_PLUGINS_DISABLED``) switches named plugins off and keeps the
    rest. A requested plugin that is unknown or whose dependency is off is an error; with
    the default, a plugin whose dependency is not installed or disabled is skipped with a
    reason. Plugins marked ``auto_install`` join as soon as all their dependencies are on
    (unless disabled).
    """
    skipped: dict[str, str] = {}
    blocked = set(disabled)
    for variable, names in (("OPIEKUN_PLUGINS", set(requested or ())), ("OPIEKUN_PLUGINS_DISABLED", blocked)):
        unknown = sorted(names - set(installed))
        if unknown:
            raise PluginError(
                f"unknown plugin {', '.join(repr(name) for name in unknown)} in {variable}; "
                f"installed: {', '.join(sorted(installed)) or 'none'}"
            )
    wanted = (set(installed) if requested is None else set(requested)) - blocked
    skipped.update(dict.fromkeys(sorted(blocked), "switched off by OPIEKUN_PLUGINS_DISABLED"))
    requested = None if requested is None else [name for name in requested if name not in blocked]
    while True:  # drop (or refuse) plugins whose dependencies are off, until stable
        missing = {name: sorted(set(installed[name].manifest.depends) - wanted) for name in sorted(wanted)}
        missing = {name: deps for name, deps in missing.items() if deps}
        if not missing:
            break
        for name, deps in missing.items():
            not_installed = [dep for dep in deps if dep not in installed]
            if requested is not None and name in requested:
                reason = "not installed" if not_installed else "not enabled: add it to OPIEKUN_PLUGINS"
                raise PluginError(f"plugin {name!r} needs {', '.join(repr(dep) for dep in deps)}, which is {reason}")
            skipped[name] = (
                f"needs {', '.join(deps)}, which {'is' if len(deps) == 1 else 'are'} not {'installed' if not_installed else 'enabled'}"
            )
            wanted.discard(name)
    for name in sorted(set(installed) - wanted - set(skipped) - blocked):  # Odoo's auto_install
        manifest = installed[name].manifest
        if manifest.auto_install and set(manifest.depends) <= wanted:
            wanted.add(name)
    return [installed[name] for name in _dependency_order(installed, wanted)], skipped


def _dependency_order(installed: Mapping[str, Plugin], wanted: set[str]) -> list[str]:
    ordered: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name) :] + [name]
            raise PluginError(f"plugins depend on each other in a loop: {' -> '.join(cycle)}")
        state[name] = "visiting"
        for dependency in sorted(installed[name].manifest.depends):
            visit(dependency, path + [name])
        state[name] = "done"
        ordered.append(name)

    for name in sorted(wanted):
        visit(name, [])
    return ordered


def ask_plugin_alone(plugin: Plugin, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call one hook of one plugin — a plugin that is off (its migrations, its models) —
    through a pluggy manager of its own, so nothing of it joins the app."""
    alone = pluggy.PluginManager(PROJECT_NAME)
    alone.add_hookspecs(hookspecs)
    alone.register(plugin.module, name=plugin.name)
    return getattr(alone.hook, hook_name)(**kwargs)


class PluginHost:
    """The enabled plugins of one app, behind one typed method per hook."""

    def __init__(
        self,
        plugins: list[Plugin],
        skipped: Mapping[str, str] | None = None,
        trace: bool = False,
        installed: Mapping[str, Plugin] | None = None,
    ):
        self.plugins = plugins
        self.skipped = dict(skipped or {})
        #: every installed plugin, enabled or not (the dormant ones keep their schema branch)
        self.installed = dict(installed or {plugin.name: plugin for plugin in plugins})
        self.manager = pluggy.PluginManager(PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        # pluggy calls the last registered implementation first: register in reverse so
        # the core runs first, then each plugin after the plugins it depends on.
        for plugin in reversed(plugins):
            self.manager.register(plugin.module, name=plugin.name)
        for module_name in reversed(CORE_HOOK_MODULES):
            self.manager.register(importlib.import_module(module_name), name=f"core:{module_name}")
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            plugin_name = self.manager.get_name(error.plugin) if error.plugin is not None else "?"
            raise PluginError(f"plugin {plugin_name!r}: {error}") from error
        if trace:
            self.manager.add_hookcall_monitoring(_trace_before, _trace_after)

    @classmethod
    def from_installed(
        cls,
        requested: Iterable[str] | None,
        trace: bool = False,
        extra_modules: Iterable[str | ModuleType] = (),
        disabled: Iterable[str] = (),
    ) -> PluginHost:
        installed = discover_plugins(extra_modules)
        plugins, skipped = resolve_plugins(installed, requested, disabled)
        for name, reason in skipped.items():
            log.warning("plugin %s is off: %s", name, reason)
        return cls(plugins, skipped, trace, installed)

    @property
    def names(self) -> list[str]:
        return [plugin.name for plugin in self.plugins]

    def hooks_of(self, plugin_name: str) -> list[str]:
        """The hooks a plugin implements (for the plugins list)."""
        module = self.manager.get_plugin(plugin_name)
        return sorted(caller.name for caller in self.manager.get_hookcallers(module) or [])

    # --- calling helpers ------------------------------------------------------------------
    # Every hook goes through pluggy (so OPIEKUN_TRACE_HOOKS logs it and hook wrappers see
    # it); a start-up hook that raises stops the start with a message naming its plugin.

    def _call(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a start-up hook on every enabled plugin; its non-None answers."""
        return _naming_the_plugin(getattr(self.manager.hook, hook_name), hook_name, kwargs)

    def _flatten(self, hook_name: str, **kwargs: Any) -> list[Any]:
        return [item for items in self._call(hook_name, **kwargs) for item in items]

    def _ask_one(self, plugin_name: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook on the plugin ``plugin_name`` alone (still through pluggy)."""
        others = [plugin for name, plugin in self.manager.list_name_plugin() if name != plugin_name]
        caller = self.manager.subset_hook_caller(hook_name, remove_plugins=others)
        return _naming_the_plugin(caller, hook_name, kwargs)

    # --- start-up hooks -------------------------------------------------------------------

    def load_models(self) -> list[type]:
        return self._flatten("opiekun_models")

    def migrations_dirs(self) -> dict[str, str]:
        """Each implementer's folder of revisions, by its name (the core's among them)."""
        folders = {name: self._ask_one(name, "opiekun_migrations_dir") for name, _ in self.manager.list_name_plugin()}
        return {name: answers[0] for name, answers in folders.items() if answers}

    def dormant(self) -> list[Plugin]:
        """The installed plugins that are off in this app (not chosen, or a dependency off)."""
        enabled = set(self.names)
        return [plugin for name, plugin in sorted(self.installed.items()) if name not in enabled]

    def dormant_migrations_dirs(self) -> dict[str, str]:
        """The migration folders of the installed plugins that are off: Alembic must know
        their revisions (the database may hold them) without upgrading their branches.
        Asked of each plugin alone, through a pluggy manager of its own."""
        folders = {}
        for plugin in self.dormant():
            folder = ask_plugin_alone(plugin, "opiekun_migrations_dir")
            if folder:
                folders[plugin.name] = folder[0]
        return folders

    def record_types(self) -> list[RecordType]:
        """Every record type, the core's first; a record type that cannot work stops the
        start with its plugin's name and the fix (:meth:`RecordType.problems`)."""
        registered = []
        for name, _ in reversed(self.manager.list_name_plugin()):
            for record_type in (item for items in self._ask_one(name, "opiekun_record_types") for item in items):
                problems = record_type.problems()
                if problems:
                    raise PluginError(
                        f"plugin {name!r}: the record type {record_type.name!r} cannot work: {'; '.join(problems)}"
                    )
                registered.append(record_type)
        return registered

    def record_fields(self, record_type: RecordType) -> list[RecordField]:
        """The fields plugins add to ``record_type``; a name taken twice, or by the model,
        stops the start."""
        fields = self._flatten("opiekun_record_fields", record_type=record_type)
        taken = set(record_type.model.__table__.columns.keys())
        for field in fields:
            if field.name in taken:
                raise PluginError(
                    f"the field {field.name!r} added to the record type {record_type.name!r} is taken: "
                    "give it another name"
                )
            taken.add(field.name)
        return fields

    def blueprints(self) -> list[Blueprint]:
        return self._flatten("opiekun_blueprints")

    def admin_views(self, admin: Admin) -> list[BaseView]:
        return self._flatten("opiekun_admin_views", admin=admin)

    def admin_bulk_actions(self, record_type: RecordType) -> list[BulkAction]:
        return self._flatten("opiekun_admin_bulk_actions", record_type=record_type)

    def admin_record_sections(self, record_type: RecordType, record: Any) -> list[tuple[str, str]]:
        answers = self.manager.hook.opiekun_admin_record_sections(record_type=record_type, record=record)
        return [section for sections in answers for section in sections]

    def admin_user_sections(self, user: User) -> list[tuple[str, str]]:
        return self._flatten("opiekun_admin_user_sections", user=user)

    def admin_home_panels(self, user: User) -> list[HomePanel]:
        return self._flatten("opiekun_admin_home_panels", user=user)

    def admin_form(self, record_type: RecordType, form: Form, record: Any | None) -> None:
        self.manager.hook.opiekun_admin_form(record_type=record_type, form=form, record=record)

    def permissions(self) -> list[Permission]:
        return self._flatten("opiekun_permissions")

    def cli_commands(self) -> list[click.Command]:
        return self._flatten("opiekun_cli_commands")

    def jobs(self) -> list[JobDefinition]:
        return self._flatten("opiekun_jobs")

    def schedules(self) -> list[Schedule]:
        return self._flatten("opiekun_schedules")

    def app_ready(self, app: Flask) -> None:
        self._call("opiekun_app_ready", app=app)

    # --- run-time hooks -------------------------------------------------------------------

    def demo_data(self, plugin_name: str, context: DemoContext) -> None:
        """Run one plugin's demo-data hook (the demo loader tracks which plugins ran)."""
        self._ask_one(plugin_name, "opiekun_demo_data", context=context)

    def validate_record(self, record_type: RecordType, record: Any, operation: str) -> dict[str, str]:
        problems: dict[str, str] = {}
        for answer in self.manager.hook.opiekun_validate_record(
            record_type=record_type, record=record, operation=operation
        ):
            problems.update(answer)
        return problems

    def record_access(self, user: User, record_type: RecordType, record: Any, action: str) -> bool | None:
        answers = self.manager.hook.opiekun_record_access(
            user=user, record_type=record_type, record=record, action=action
        )
        if False in answers:
            return False
        return True if True in answers else None

    def record_deleting(self, session: Session, record_type: RecordType, record: Any) -> None:
        self.manager.hook.opiekun_record_deleting(session=session, record_type=record_type, record=record)

    def records_changed(self, session: Session, change_set: ChangeSet) -> None:
        self.manager.hook.opiekun_records_changed(session=session, change_set=change_set)

    def plugin_resumed(self, plugin_name: str, session: Session, gap: PluginGap) -> list[Iterable[Message | str]]:
        """Ask the plugin ``plugin_name`` alone to catch up after ``gap``; its answers
        (lists of lines)."""
        others = [plugin for name, plugin in self.manager.list_name_plugin() if name != plugin_name]
        caller = self.manager.subset_hook_caller("opiekun_plugin_resumed", remove_plugins=others)
        return caller(session=session, gap=gap)

    def deal_closed(self, session: Session, deal: Deal, outcome: str, reason: str | None, actor: Actor) -> None:
        self.manager.hook.opiekun_deal_closed(session=session, deal=deal, outcome=outcome, reason=reason, actor=actor)

    def user_departed(self, session: Session, user: User, actor: Actor) -> None:
        self.manager.hook.opiekun_user_departed(session=session, user=user, actor=actor)

    def user_items(self, user_id: int, include_closed: bool) -> list[ItemCount]:
        answers = self.manager.hook.opiekun_user_items(user_id=user_id, include_closed=include_closed)
        return [item for items in answers for item in items]

    def transfer_options(self) -> list[TransferOption]:
        return self._flatten("opiekun_transfer_options")

    def transfer_user_items(self, session: Session, request: TransferRequest) -> list[TransferResult]:
        """One transfer step in its two phases: every plugin judges (``opiekun_transfer_prepare``),
        then every plugin moves (``opiekun_transfer_user_items``)."""
        judged = self.manager.hook.opiekun_transfer_prepare(session=session, request=request)
        moved = self.manager.hook.opiekun_transfer_user_items(session=session, request=request)
        return [result for results in (*judged, *moved) for result in results]

    def undo_transfer(self, session: Session, request: UndoRequest) -> None:
        self.manager.hook.opiekun_undo_transfer(session=session, request=request)

    def moved_items(self, transfer_id: int) -> list[Select]:
        """The plugins' SELECTs of the rows of their own that a transfer moved."""
        return self.manager.hook.opiekun_moved_items(transfer_id=transfer_id)


def _naming_the_plugin(caller: Any, hook_name: str, kwargs: Mapping[str, Any]) -> list[Any]:
    """``caller(**kwargs)``; an error raised in a plugin's implementation becomes a
    :class:`PluginError` naming that plugin (found in the traceback)."""
    try:
        return caller(**kwargs)
    except PluginError:
        raise
    except Exception as error:
        plugin = _plugin_that_raised(caller, error)
        raise PluginError(f"plugin {plugin!r} failed in {hook_name}: {type(error).__name__}: {error}") from error


def _plugin_that_raised(caller: Any, error: BaseException) -> str:
    """The plugin whose implementation is the outermost frame of ``error`` among the
    caller's implementations ("?" when none is)."""
    plugins = {
        implementation.function.__code__: implementation.plugin_name for implementation in caller.get_hookimpls()
    }
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code in plugins:
            return plugins[frame.tb_frame.f_code]
        frame = frame.tb_next
    return "?"


def _trace_before(hook_name: str, hook_impls: list, kwargs: dict) -> None:
    log.info("hook %s -> %s", hook_name, ", ".join(impl.plugin_name for impl in reversed(hook_impls)))


def _trace_after(outcome, hook_name: str, hook_impls: list, kwargs: dict) -> None:
    if outcome.exception is not None:
        log.info("hook %s raised %r", hook_name, outcome.exception)
