"""The manifest every plugin declares as ``MANIFEST`` in its top module."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PluginManifest:
    """What a plugin says about itself before any of its code runs.

    :param name: the plugin's name, as used in ``OPIEKUN_PLUGINS`` (lowercase, no spaces).
    :param version: the plugin's version string.
    :param summary: one line for ``opiekun plugins`` and ``GET /api/v1/plugins``.
    :param depends: names of plugins that must be on for this one to run.
    :param auto_install: switch this plugin on by itself once all of ``depends`` are on,
        even when ``OPIEKUN_PLUGINS`` does not name it (Odoo's ``auto_install``).
    """

    name: str
    version: str
    summary: str = ""
    depends: tuple[str, ...] = field(default_factory=tuple)
    auto_install: bool = False

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").isalnum() or self.name != self.name.lower():
            raise ValueError(f"plugin name {self.name!r} must be lowercase letters, digits and underscores")
        object.__setattr__(self, "depends", tuple(self.depends))
