"""The plugin manager: discovery, choice, dependency order and clear start-up errors."""

import pytest

from opiekun.plugin_manager import Plugin, PluginError, PluginHost, resolve_plugins
from opiekun.testing.plugins import make_plugin


def installed(*modules):
    return {module.MANIFEST.name: Plugin(module.MANIFEST, module, None) for module in modules}


def names(plugins):
    return [plugin.name for plugin in plugins]


SALES = make_plugin("sales")
REPORTS = make_plugin("reports", depends=("sales",))
EXPORTS = make_plugin("exports", depends=("reports", "sales"))


def test_plugins_load_after_what_they_depend_on():
    plugins, skipped = resolve_plugins(installed(EXPORTS, REPORTS, SALES), None)
    assert names(plugins) == ["sales", "reports", "exports"]
    assert skipped == {}


def test_a_chosen_subset_runs_and_nothing_else():
    plugins, _ = resolve_plugins(installed(EXPORTS, REPORTS, SALES), ["sales"])
    assert names(plugins) == ["sales"]
    assert resolve_plugins(installed(SALES), [])[0] == []


def test_an_unknown_plugin_is_named():
    with pytest.raises(PluginError, match=r"unknown plugin 'salez'.*installed: sales"):
        resolve_plugins(installed(SALES), ["salez"])


def test_enabling_a_plugin_whose_dependency_is_off_is_refused_naming_it():
    with pytest.raises(PluginError, match=r"plugin 'reports' needs 'sales', which is not enabled"):
        resolve_plugins(installed(REPORTS, SALES), ["reports"])


def test_by_default_a_plugin_with_a_missing_dependency_is_skipped_with_the_reason():
    plugins, skipped = resolve_plugins(installed(REPORTS, EXPORTS), None)
    assert names(plugins) == []
    assert skipped["reports"] == "needs sales, which is not installed"
    assert skipped["exports"] == "needs sales, which is not installed"


def test_a_dependency_loop_is_named():
    first = make_plugin("first", depends=("second",))
    second = make_plugin("second", depends=("first",))
    with pytest.raises(PluginError, match=r"loop: first -> second -> first"):
        resolve_plugins(installed(first, second), None)


def test_auto_install_joins_once_its_dependencies_are_on():
    bridge = make_plugin("bridge", depends=("sales", "reports"), auto_install=True)
    plugins, _ = resolve_plugins(installed(SALES, REPORTS, bridge), ["sales", "reports"])
    assert names(plugins) == ["sales", "reports", "bridge"]
    plugins, _ = resolve_plugins(installed(SALES, REPORTS, bridge), ["sales"])
    assert names(plugins) == ["sales"]


def test_a_misspelled_hook_is_caught_at_start_up():
    typo = make_plugin("typo", opiekun_recrods_changed=lambda session, change_set: None)
    with pytest.raises(PluginError, match="typo"):
        PluginHost([Plugin(typo.MANIFEST, typo, None)])


def test_a_hook_failing_at_start_up_names_its_plugin():
    def opiekun_blueprints():
        raise RuntimeError("no database configured")

    broken = make_plugin("broken", opiekun_blueprints=opiekun_blueprints)
    host = PluginHost([Plugin(broken.MANIFEST, broken, None)])
    with pytest.raises(
        PluginError, match=r"plugin 'broken' failed in opiekun_blueprints: RuntimeError: no database configured"
    ):
        host.blueprints()


class Traced:
    """The trace lines the plugin manager logs inside the block (INFO, its own logger)."""

    def __enter__(self) -> list[str]:
        import logging

        self.messages: list[str] = []
        self.handler = logging.Handler(logging.INFO)
        self.handler.emit = lambda record: self.messages.append(record.getMessage())
        self.logger = logging.getLogger("opiekun.plugin_manager")
        self.level = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)
        return self.messages

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def test_start_up_hooks_go_through_pluggy_so_tracing_and_wrappers_see_them():
    """OPIEKUN_TRACE_HOOKS logs the start-up hooks too, and a partner's hook wrapper gets
    their real results (before, start-up hooks were called around pluggy)."""
    from opiekun import hookimpl
    from opiekun.permissions import Permission

    extra = Permission("audit.extra", "An extra right", ())
    wrapping = make_plugin("wrapping")

    @hookimpl(wrapper=True)
    def opiekun_permissions():
        answers = yield
        return [*answers, [extra]]

    wrapping.opiekun_permissions = opiekun_permissions
    host = PluginHost([Plugin(wrapping.MANIFEST, wrapping, None)], trace=True)
    with Traced() as messages:
        permissions = host.permissions()
    assert extra in permissions and permissions[0].name == "users.manage"
    assert any("hook opiekun_permissions -> " in message for message in messages), messages


def test_one_plugins_hook_is_asked_through_pluggy_too():
    answered = []
    alpha = make_plugin("alpha", opiekun_demo_data=lambda context: answered.append(("alpha", context)))
    beta = make_plugin("beta", opiekun_demo_data=lambda context: answered.append(("beta", context)))
    host = PluginHost([Plugin(alpha.MANIFEST, alpha, None), Plugin(beta.MANIFEST, beta, None)], trace=True)
    with Traced() as messages:
        host.demo_data("beta", context="demo")
    assert answered == [("beta", "demo")]
    assert "hook opiekun_demo_data -> beta" in messages


def test_hooks_are_called_core_first_then_in_dependency_order():
    calls = []
    first = make_plugin("alpha", opiekun_permissions=lambda: calls.append("alpha") or [])
    second = make_plugin("beta", depends=("alpha",), opiekun_permissions=lambda: calls.append("beta") or [])
    plugins, _ = resolve_plugins(installed(second, first), None)
    host = PluginHost(plugins)
    permissions = host.permissions()
    assert calls == ["alpha", "beta"]
    assert permissions[0].name == "users.manage", "the core's permissions come first"
    assert host.hooks_of("beta") == ["opiekun_permissions"]


def test_a_plugin_module_without_manifest_is_refused():
    import types

    from opiekun.plugin_manager import discover_plugins

    with pytest.raises(PluginError, match="MANIFEST"):
        discover_plugins([types.ModuleType("no_manifest")])


def test_a_transfer_step_judges_everywhere_before_anything_moves():
    """Order is in the contract (two phases), not in tryfirst: a plugin that depends on
    another, so is called after it, still judges before the other moves."""
    from flask import Flask

    from opiekun.record_registry import RecordTypeRegistry
    from opiekun.user_items import TransferRequest

    calls = []
    mover = make_plugin("mover", opiekun_transfer_user_items=lambda session, request: calls.append("mover moves") or [])
    judge = make_plugin(
        "judge",
        depends=("mover",),
        opiekun_transfer_prepare=lambda session, request: calls.append("judge judges") or [],
        opiekun_transfer_user_items=lambda session, request: calls.append("judge moves") or [],
    )
    plugins, _ = resolve_plugins(installed(judge, mover), None)
    host = PluginHost(plugins)
    app = Flask("phases")  # the core's own transfer hook looks the record types up: none here
    app.extensions["opiekun.record_types"] = RecordTypeRegistry([])
    with app.app_context():
        host.transfer_user_items(None, TransferRequest(1, 2, frozenset({"company"})))
    assert calls[0] == "judge judges"
    assert set(calls[1:]) == {"mover moves", "judge moves"}
