"""Opiekun: a CRM back office built from a small Flask core and pluggy plugins.

A plugin imports the core only from its public namespace, :mod:`opiekun.plugin` (with
:mod:`opiekun.plugin.api` and :mod:`opiekun.plugin.admin`)::

    from opiekun.plugin import PluginManifest, hookimpl

and implements the hooks of :mod:`opiekun.hookspecs`.
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from opiekun.manifest import PluginManifest

try:
    __version__ = version("opiekun")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

PROJECT_NAME = "opiekun"

hookimpl: pluggy.HookimplMarker = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's function as the implementation of a hook in :mod:`opiekun.hookspecs`:
``@hookimpl`` above a function named like the hook (``tryfirst``/``trylast``/``wrapper``
as pluggy defines them)."""

__all__ = ["PluginManifest", "__version__", "hookimpl"]
