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

#: Marks a plugin's function as the implementation of a hook in :mod:`opiekun.hookspecs`.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PluginManifest", "__version__", "hookimpl"]
