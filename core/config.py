"""Configuration from the environment (``OPIEKUN_*``), with embedded defaults."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """The configured secret key, or one generated once and kept in the instance folder.

    Keeping it means sessions and API tokens survive a restart of an embedded instance.
    """
    configured = os.environ.get("OPIEKUN_SECRET_KEY")
    if configured:
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    """Everything the environment decides about a deployment."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    plugins: tuple[str, ...] | None
    secret_key: str
    trace_hooks: bool = False
    #: plugin modules used without an installed distribution (``OPIEKUN_PLUGIN_MODULES``)
    plugin_modules: tuple[str, ...] = ()

    @property
    def embedded_jobs(self) -> bool:
        """True when no Redis server is configured: jobs run in-process on fakeredis."""
        return not self.redis_url

    @classmethod
    def from_environment(cls, default_instance_path: str | os.PathLike) -> "Settings":
        instance_path = Path(os.environ.get("OPIEKUN_INSTANCE_PATH") or default_instance_path).resolve()
        database_url = os.environ.get("OPIEKUN_DATABASE_URL") or f"sqlite:///{instance_path / 'opiekun.db'}"
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
        plugins_env = os.environ.get("OPIEKUN_PLUGINS")
        plugins = None
        if plugins_env is not None:
            plugins = tuple(name.strip() for name in plugins_env.split(",") if name.strip())
        return cls(
            instance_path=instance_path,
            database_url=database_url,
            redis_url=os.environ.get("OPIEKUN_REDIS_URL") or None,
            plugins=plugins,
            secret_key=_secret_key(instance_path),
            trace_hooks=os.environ.get("OPIEKUN_TRACE_HOOKS", "") not in ("", "0", "false"),
            plugin_modules=tuple(name.strip() for name in os.environ.get("OPIEKUN_PLUGIN_MODULES", "").split(",") if name.strip()),
        )
