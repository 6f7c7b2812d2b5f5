"""The environment decides cookies, the session idle timeout, login throttling and trusted
proxies; a wrong value stops the app at start, not at the first login."""

from __future__ import annotations

import pytest

from opiekun.config import Settings

VARIABLES = (
    "OPIEKUN_SECURE_COOKIES",
    "OPIEKUN_SESSION_IDLE_MINUTES",
    "OPIEKUN_LOGIN_LIMIT_PER_ACCOUNT",
    "OPIEKUN_LOGIN_LIMIT_PER_ADDRESS",
    "OPIEKUN_TRUSTED_PROXIES",
)


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPIEKUN_SECRET_KEY", "k" * 48)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_suit_the_embedded_http_demo(environment, tmp_path):
    settings = Settings.from_environment(tmp_path)
    assert settings.secure_cookies is False and settings.session_idle_minutes == 480
    assert settings.login_limit_per_account == "5 per minute;20 per hour"
    assert settings.login_limit_per_address == "30 per minute;200 per hour"
    assert settings.trusted_proxies == 0


def test_the_environment_sets_them(environment, tmp_path):
    environment.setenv("OPIEKUN_SECURE_COOKIES", "1")
    environment.setenv("OPIEKUN_SESSION_IDLE_MINUTES", "30")
    environment.setenv("OPIEKUN_LOGIN_LIMIT_PER_ACCOUNT", "3 per minute")
    environment.setenv("OPIEKUN_LOGIN_LIMIT_PER_ADDRESS", "50 per hour")
    environment.setenv("OPIEKUN_TRUSTED_PROXIES", "1")
    settings = Settings.from_environment(tmp_path)
    assert (
        settings.secure_cookies,
        settings.session_idle_minutes,
        settings.login_limit_per_account,
        settings.login_limit_per_address,
        settings.trusted_proxies,
    ) == (True, 30, "3 per minute", "50 per hour", 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPIEKUN_LOGIN_LIMIT_PER_ACCOUNT", "lots"),
        ("OPIEKUN_SESSION_IDLE_MINUTES", "0"),
        ("OPIEKUN_TRUSTED_PROXIES", "-1"),
    ],
)
def test_a_wrong_value_is_refused_at_start(environment, tmp_path, name, value):
    environment.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_environment(tmp_path)
