"""The secrets of an installation: the secret key must be long enough to be unguessable,
and the instance folder, the key file and the SQLite file are readable by their owner only,
whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from opiekun.app import create_app
from opiekun.config import ConfigurationError, Settings
from opiekun.extensions import db
from opiekun.testing.apps import make_settings


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A machine whose umask lets everyone read new files, and no key in the environment."""
    monkeypatch.delenv("OPIEKUN_SECRET_KEY", raising=False)
    monkeypatch.delenv("OPIEKUN_DATABASE_URL", raising=False)
    monkeypatch.setenv("OPIEKUN_INSTANCE_PATH", str(tmp_path / "instance"))
    previous = os.umask(0o022)
    yield tmp_path / "instance"
    os.umask(previous)


@pytest.mark.parametrize("key", ["x", "short-key-of-31-bytes-abcdefghi", "ą" * 15])
def test_a_short_configured_key_is_refused_with_a_clear_error(environment, monkeypatch, key):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", key)
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_environment(environment)
    message = str(refused.value)
    assert "OPIEKUN_SECRET_KEY" in message and "32 bytes" in message and "secrets.token_urlsafe" in message
    assert not (environment / "secret_key").exists()


def test_an_app_is_not_built_with_a_short_key(tmp_path):
    with pytest.raises(ConfigurationError):
        create_app(
            Settings(
                instance_path=tmp_path,
                database_url=f"sqlite:///{tmp_path / 'x.db'}",
                redis_url=None,
                plugins=(),
                secret_key="test-secret-key",
            )
        )


def test_a_long_enough_configured_key_is_used(environment, monkeypatch):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    assert Settings.from_environment(environment).secret_key == "k" * 32


@pytest.mark.parametrize("stored", ["", "\n", "too-short"])
def test_an_empty_or_short_key_file_is_made_again(environment, stored):
    environment.mkdir()
    (environment / "secret_key").write_text(stored)
    key = Settings.from_environment(environment).secret_key
    assert len(key) >= 32
    assert (environment / "secret_key").read_text() == key
    assert mode_of(environment / "secret_key") == 0o600
    assert Settings.from_environment(environment).secret_key == key, "kept once made"


def test_the_key_file_is_created_readable_by_its_owner_only_from_the_start(environment, monkeypatch):
    """Created 0600, not created with the umask's mode and narrowed afterwards (chmod is
    disabled here to tell the two apart)."""
    monkeypatch.setattr(Path, "chmod", lambda self, mode, **kwargs: None)
    Settings.from_environment(environment)
    assert mode_of(environment / "secret_key") == 0o600
    assert not [path.name for path in environment.iterdir() if path.name != "secret_key"], "no temporary file left"


def test_an_existing_key_file_readable_by_others_is_narrowed(environment):
    environment.mkdir()
    (environment / "secret_key").write_text("k" * 48)
    (environment / "secret_key").chmod(0o644)
    assert Settings.from_environment(environment).secret_key == "k" * 48
    assert mode_of(environment / "secret_key") == 0o600


def test_the_instance_folder_and_the_sqlite_file_are_private(environment):
    settings = Settings.from_environment(environment)
    assert mode_of(environment) == 0o700
    app = create_app(settings)
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE probe (id INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    database = environment / "opiekun.db"
    assert mode_of(database) == 0o600
    for companion in environment.glob("opiekun.db-*"):  # -wal, -shm
        assert mode_of(companion) == 0o600, companion.name


def test_an_instance_folder_the_app_creates_is_private(tmp_path):
    previous = os.umask(0o022)
    try:
        folder = tmp_path / "elsewhere" / "instance"
        create_app(make_settings(folder, plugins=()))
    finally:
        os.umask(previous)
    assert mode_of(folder) == 0o700
    assert mode_of(folder / "opiekun.db") == 0o600


def test_the_command_line_refuses_a_short_key_with_the_message_not_a_traceback(environment, monkeypatch):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "too-short")
    command = Path(sys.executable).parent / "opiekun"
    finished = subprocess.run(
        [str(command), "plugins"], capture_output=True, text=True, timeout=60, cwd=environment.parent
    )
    assert finished.returncode == 2
    assert (
        finished.stderr.startswith("Error: OPIEKUN_SECRET_KEY is 9 bytes long") and "Traceback" not in finished.stderr
    )


def test_the_deployments_time_zone_comes_from_the_environment(environment, monkeypatch):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    assert Settings.from_environment(environment).time_zone == "Europe/Warsaw"
    monkeypatch.setenv("OPIEKUN_TIME_ZONE", "America/Sao_Paulo")
    assert Settings.from_environment(environment).time_zone == "America/Sao_Paulo"


@pytest.mark.parametrize("zone", ["Warszawa", "Europe/Nowhere", "../etc/passwd"])
def test_an_unknown_time_zone_is_refused_at_start_with_the_fix(environment, monkeypatch, zone):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    monkeypatch.setenv("OPIEKUN_TIME_ZONE", zone)
    with pytest.raises(ConfigurationError, match="Europe/Warsaw"):
        Settings.from_environment(environment)


def test_the_exact_count_limit_comes_from_the_environment_and_must_be_a_positive_number(environment, monkeypatch):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    assert Settings.from_environment(environment).exact_count_limit == 10_000
    monkeypatch.setenv("OPIEKUN_EXACT_COUNT_LIMIT", "50000")
    assert Settings.from_environment(environment).exact_count_limit == 50_000
    for wrong in ("0", "-5", "ten", "1e4"):
        monkeypatch.setenv("OPIEKUN_EXACT_COUNT_LIMIT", wrong)
        with pytest.raises(ValueError, match="OPIEKUN_EXACT_COUNT_LIMIT must be a whole number of at least 1"):
            Settings.from_environment(environment)


def test_the_read_replica_comes_from_the_environment(environment, monkeypatch):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    settings = Settings.from_environment(environment)
    assert (settings.database_replica_url, settings.database_replica_max_lag) == (None, 10.0)
    monkeypatch.setenv("OPIEKUN_DATABASE_REPLICA_URL", "postgresql://reader@replica.internal/crm")
    monkeypatch.setenv("OPIEKUN_DATABASE_REPLICA_MAX_LAG", "2.5")
    settings = Settings.from_environment(environment)
    assert settings.database_replica_url == "postgresql+psycopg://reader@replica.internal/crm"
    assert settings.database_replica_max_lag == 2.5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPIEKUN_DATABASE_REPLICA_URL", "sqlite:///copy.db", "must be a postgresql:// URL"),
        ("OPIEKUN_DATABASE_REPLICA_MAX_LAG", "soon", "must be seconds"),
        ("OPIEKUN_DATABASE_REPLICA_MAX_LAG", "-1", "between 0 and 86400"),
        ("OPIEKUN_DATABASE_REPLICA_MAX_LAG", "nan", "between 0 and 86400"),
    ],
)
def test_a_wrong_read_replica_setting_is_refused_at_start(environment, monkeypatch, name, value, message):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 32)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_environment(environment)
