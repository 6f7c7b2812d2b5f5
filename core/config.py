"""Configuration from the environment (``OPIEKUN_*``), with embedded defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from opiekun.local_time import DEFAULT_TIME_ZONE, is_time_zone

#: The shortest secret key accepted: it signs sessions, API tokens, calendar links and the
#: audit hash chain, so it must not be guessable.
MIN_SECRET_KEY_BYTES = 32
#: How to make a good key, as the refusal says.
GENERATE_KEY_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class ConfigurationError(RuntimeError):
    """The environment asks for something the application refuses to start with."""


def check_secret_key(key: str, source: str) -> None:
    """Refuse a key under :data:`MIN_SECRET_KEY_BYTES` (an empty or short key lets anyone
    forge sessions and tokens), naming where it came from and how to make a good one."""
    length = len(key.encode())
    if length < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{source} is {length} bytes long; a secret key needs at least {MIN_SECRET_KEY_BYTES} bytes. "
            f"Generate one with: {GENERATE_KEY_HINT}"
        )


def make_instance_folder(instance_path: Path) -> None:
    """Create the instance folder (secret key, SQLite file, export files) readable by its
    owner only (0700); an existing folder is left as its administrator set it."""
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private_file(path: Path, content: str = "") -> None:
    """Write ``path`` readable by its owner only (0600) from its first byte: written to a
    new temporary file created 0600, then renamed over ``path`` (atomic)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _secret_key(instance_path: Path) -> str:
    """The configured secret key (``OPIEKUN_SECRET_KEY``, refused when short), or one
    generated once and kept in the instance folder (made again when the file is empty or
    holds a short key).

    Keeping it means sessions and API tokens survive a restart of an embedded instance.
    """
    configured = os.environ.get("OPIEKUN_SECRET_KEY")
    if configured:
        check_secret_key(configured, "OPIEKUN_SECRET_KEY")
        return configured
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if len(key.encode()) >= MIN_SECRET_KEY_BYTES:
            if key_file.stat().st_mode & 0o077:
                key_file.chmod(0o600)
            return key
    make_instance_folder(instance_path)
    key = secrets.token_urlsafe(48)
    create_private_file(key_file, key)
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
    #: cookies only over HTTPS, and HSTS (``OPIEKUN_SECURE_COOKIES``; must be on in production)
    secure_cookies: bool = False
    #: an admin session left unused this long ends (``OPIEKUN_SESSION_IDLE_MINUTES``)
    session_idle_minutes: int = 8 * 60
    #: failed logins allowed per account (``OPIEKUN_LOGIN_LIMIT_PER_ACCOUNT``, Flask-Limiter notation)
    login_limit_per_account: str = "5 per minute;20 per hour"
    #: failed logins allowed per client address (``OPIEKUN_LOGIN_LIMIT_PER_ADDRESS``)
    login_limit_per_address: str = "30 per minute;200 per hour"
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust (``OPIEKUN_TRUSTED_PROXIES``)
    trusted_proxies: int = 0
    #: how passwords are hashed (werkzeug's method string). Only code sets it, never the
    #: environment: the test suite uses a cheap hash to run fast; deployments keep scrypt.
    password_hash_method: str = "scrypt"
    #: plugins switched off by name, the others kept (``OPIEKUN_PLUGINS_DISABLED``)
    plugins_disabled: tuple[str, ...] = ()
    #: the time zone of users who chose none (``OPIEKUN_TIME_ZONE``, an IANA name)
    time_zone: str = DEFAULT_TIME_ZONE
    #: list totals above this many rows are PostgreSQL's estimate (``OPIEKUN_EXACT_COUNT_LIMIT``)
    exact_count_limit: int = 10_000
    #: a streaming replica for reports, exports and history lists (``OPIEKUN_DATABASE_REPLICA_URL``)
    database_replica_url: str | None = None
    #: seconds the replica may lag and still be read (``OPIEKUN_DATABASE_REPLICA_MAX_LAG``)
    database_replica_max_lag: float = 10.0

    def __post_init__(self) -> None:
        check_secret_key(self.secret_key, "the secret key (OPIEKUN_SECRET_KEY)")
        if not is_time_zone(self.time_zone):
            raise ConfigurationError(
                f"OPIEKUN_TIME_ZONE {self.time_zone!r} is not a time zone; use an IANA name such as Europe/Warsaw"
            )

    @property
    def embedded_jobs(self) -> bool:
        """True when no Redis server is configured: jobs run in-process on fakeredis."""
        return not self.redis_url

    @classmethod
    def from_environment(cls, default_instance_path: str | os.PathLike) -> Settings:
        instance_path = Path(os.environ.get("OPIEKUN_INSTANCE_PATH") or default_instance_path).resolve()
        database_url = os.environ.get("OPIEKUN_DATABASE_URL") or f"sqlite:///{instance_path / 'opiekun.db'}"
        if database_url.startswith("postgresql://"):
            database_url = _with_psycopg(database_url)
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
            plugin_modules=tuple(
                name.strip() for name in os.environ.get("OPIEKUN_PLUGIN_MODULES", "").split(",") if name.strip()
            ),
            plugins_disabled=_names(os.environ.get("OPIEKUN_PLUGINS_DISABLED", "")),
            time_zone=os.environ.get("OPIEKUN_TIME_ZONE") or DEFAULT_TIME_ZONE,
            **_login_settings(),
            **_list_settings(),
            **_replica_settings(),
        )


def _names(text: str) -> tuple[str, ...]:
    """A comma list of names (``tasks, audit``)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def _login_settings() -> dict:
    """Cookies, session idle time, login throttling and proxies, from the environment
    (each unset variable keeps the :class:`Settings` default)."""
    found = {
        "secure_cookies": _flag("OPIEKUN_SECURE_COOKIES"),
        "session_idle_minutes": _whole_number("OPIEKUN_SESSION_IDLE_MINUTES", minimum=1),
        "login_limit_per_account": _rate_limit("OPIEKUN_LOGIN_LIMIT_PER_ACCOUNT"),
        "login_limit_per_address": _rate_limit("OPIEKUN_LOGIN_LIMIT_PER_ADDRESS"),
        "trusted_proxies": _whole_number("OPIEKUN_TRUSTED_PROXIES", minimum=0),
    }
    return {name: value for name, value in found.items() if value is not None}


def _with_psycopg(url: str) -> str:
    """A PostgreSQL URL with the driver the app uses, psycopg 3."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def _replica_settings() -> dict:
    """The read replica, from the environment (unset: none)."""
    found: dict = {}
    url = os.environ.get("OPIEKUN_DATABASE_REPLICA_URL", "").strip()
    if url:
        if not url.startswith("postgresql"):
            raise ConfigurationError("OPIEKUN_DATABASE_REPLICA_URL must be a postgresql:// URL of a streaming replica")
        found["database_replica_url"] = _with_psycopg(url)
    lag = os.environ.get("OPIEKUN_DATABASE_REPLICA_MAX_LAG", "").strip()
    if lag:
        try:
            found["database_replica_max_lag"] = float(lag)
        except ValueError:
            raise ConfigurationError(f"OPIEKUN_DATABASE_REPLICA_MAX_LAG must be seconds, not {lag!r}") from None
        if not 0 <= found["database_replica_max_lag"] <= 86_400:
            raise ConfigurationError("OPIEKUN_DATABASE_REPLICA_MAX_LAG must be between 0 and 86400 seconds")
    return found


def _list_settings() -> dict:
    """How lists count, from the environment (unset: the :class:`Settings` default)."""
    limit = _whole_number("OPIEKUN_EXACT_COUNT_LIMIT", minimum=1)
    return {} if limit is None else {"exact_count_limit": limit}


def _flag(name: str) -> bool | None:
    value = os.environ.get(name, "").strip().lower()
    return None if not value else value not in ("0", "false", "no", "off")


def _whole_number(name: str, minimum: int) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, not {value!r}")
    return int(value)


def _rate_limit(name: str) -> str | None:
    """A rate limit such as ``5 per minute;20 per hour`` (checked now, not at the first login)."""
    from limits import parse_many

    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"{name} must be rate limits such as '5 per minute;20 per hour', not {value!r}") from None
    return value
