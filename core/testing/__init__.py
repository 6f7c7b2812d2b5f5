"""The test kit for plugins — the one this repository's own suite uses.

Installed with Opiekun, it is a pytest plugin (entry point ``pytest11``: nothing to
configure) whose fixtures give a partner's tests the product with their plugin on:

============================  =============================================================
``opiekun_app``               the app with every installed plugin (or the ``opiekun_plugins``
                              ini option's), schema through the migrations, on SQLite — or
                              on PostgreSQL when ``OPIEKUN_TEST_DATABASE_URL`` names a
                              server (a fresh database per test session); one per module
``opiekun_api``               an :class:`ApiClient` on it; the tables are emptied after the test
``opiekun_admin``             an administrator (``{"id", "email", "name", "role"}``)
``opiekun_user``              a salesperson (role ``user``)
``opiekun_browser``           ``opiekun_browser(user)``: an :class:`AdminBrowser` logged in
``opiekun_recorder``          a :class:`ChangeRecorder`: the change sets of this test
============================  =============================================================

and the helpers below for what fixtures cannot do: :func:`make_plugin` (a plugin made in
a test), :func:`build_app` (an app with other plugins or settings), :class:`FreshDatabase`.
A complete example is ``tests/test_contracts_plugin.py`` of the example plugin
``opiekun-contracts``.
"""

from __future__ import annotations

from opiekun.testing.apps import (
    PASSWORD,
    FreshDatabase,
    build_app,
    close_app,
    empty_tables,
    make_settings,
    on_postgres,
    schema_differences,
)
from opiekun.testing.clients import AdminBrowser, ApiClient, flashed, logged_in
from opiekun.testing.plugins import ChangeRecorder, make_plugin

__all__ = [
    "PASSWORD",
    "AdminBrowser",
    "ApiClient",
    "ChangeRecorder",
    "FreshDatabase",
    "build_app",
    "close_app",
    "empty_tables",
    "flashed",
    "logged_in",
    "make_plugin",
    "make_settings",
    "on_postgres",
    "schema_differences",
]
