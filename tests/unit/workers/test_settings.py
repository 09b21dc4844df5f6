"""Settings are read from one mapping (the process's environment), with clear messages for bad values."""

from __future__ import annotations

import pytest

from workers.settings import METRICS_PORT_ENV, Settings


def settings(**env: str) -> Settings:
    return Settings.model_validate(env)


@pytest.mark.parametrize(("raw", "port"), [("", 9808), ("0", 0), ("9100", 9100)])
def test_metrics_port_from_env(raw: str, port: int) -> None:
    assert settings(**{METRICS_PORT_ENV: raw}).metrics_port_or(9808) == port


@pytest.mark.parametrize("raw", ["abc", "70000"])
def test_bad_metrics_port_is_explained(raw: str) -> None:
    with pytest.raises(ValueError, match="0 disables"):
        settings(**{METRICS_PORT_ENV: raw})


def test_open_time_from_env() -> None:
    assert settings().breaker_open_s == 30.0
    assert settings(ENGAGE_RELAY_BREAKER_OPEN_S="0.5").breaker_open_s == 0.5
    with pytest.raises(ValueError, match="ENGAGE_RELAY_BREAKER_OPEN_S"):
        settings(ENGAGE_RELAY_BREAKER_OPEN_S="soon")
    with pytest.raises(ValueError, match="positive"):
        settings(ENGAGE_RELAY_BREAKER_OPEN_S="-1")


def test_nothing_but_the_given_mapping_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a variable in the real environment
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:1/0")
    # Then settings built from another mapping do not see it
    assert settings().redis_url == "redis://127.0.0.1:6379/0"
