"""Log lines never carry a secret: by field name, by known value, in nested data and in tracebacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from pydantic import SecretStr

from fallback.config import FallbackSettings
from relay.tenants import Tenant, TenantRegistry
from workers.logs import (
    CELERY_TASK_LOGGERS,
    REDACTED,
    SecretScrubber,
    configure_logging,
    known_secrets,
    quiet_celery_task_lines,
    redact_secrets,
)

API_KEY = "live-engage-key-7c1d2e3f4a5b"
PASSWORD = "sftp-pass-9f8e7d6c"


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Configure the relay's logging with the secrets; yield a function that returns the lines so far."""
    configure_logging(logging.DEBUG, secrets=[API_KEY, PASSWORD])

    def lines() -> list[dict[str, Any]]:
        err = capsys.readouterr().err
        assert API_KEY not in err and PASSWORD not in err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    yield lines
    structlog.reset_defaults()


def test_fields_named_like_secrets_are_redacted_at_any_depth(json_lines: Any) -> None:
    log = structlog.get_logger("test")
    log.info("x", api_key="anything", config={"fallback": {"password": "p"}}, items=[{"token": "t"}])
    (line,) = json_lines()
    assert line["api_key"] == REDACTED
    assert line["config"]["fallback"]["password"] == REDACTED
    assert line["items"][0]["token"] == REDACTED


def test_known_secret_values_are_scrubbed_from_any_string(json_lines: Any) -> None:
    log = structlog.get_logger("test")
    log.warning(f"sent header apikey: {API_KEY}", url=f"sftp://u:{PASSWORD}@host/x", nested={"a": [API_KEY]})
    (line,) = json_lines()
    assert line["event"] == f"sent header apikey: {REDACTED}"
    assert line["url"] == f"sftp://u:{REDACTED}@host/x"
    assert line["nested"] == {"a": [REDACTED]}


def test_a_traceback_holding_a_secret_is_scrubbed(json_lines: Any) -> None:
    log = structlog.get_logger("test")
    try:
        raise RuntimeError(f"login failed for password {PASSWORD}")
    except RuntimeError:
        log.exception("upload.failed")
    (line,) = json_lines()
    assert "RuntimeError" in line["exception"] and REDACTED in line["exception"]


def test_bound_context_is_scrubbed_too(json_lines: Any) -> None:
    with structlog.contextvars.bound_contextvars(task_id="t-1", header=API_KEY):
        structlog.get_logger("test").info("engage.call")
    (line,) = json_lines()
    assert line["task_id"] == "t-1" and line["header"] == REDACTED


def test_redact_secrets_leaves_ordinary_fields_alone() -> None:
    event = {"event": "x", "tenant": "acme", "status": 401, "keys": ["email"]}
    assert redact_secrets(None, "info", dict(event)) == event


def test_short_values_are_not_scrubbed_by_value() -> None:
    scrub = SecretScrubber(["abc", API_KEY])
    assert scrub.scrub("abc and " + API_KEY) == f"abc and {REDACTED}"
    assert API_KEY not in repr(scrub)


def test_known_secrets_lists_every_key_password_and_passphrase() -> None:
    registry = TenantRegistry(
        [
            Tenant(name="a", base_url="https://a.voyado.com", api_key=SecretStr(API_KEY)),
            Tenant(
                name="b",
                base_url="https://b.voyado.com",
                api_key=SecretStr("other-key-123456"),
                fallback=FallbackSettings(password=SecretStr(PASSWORD)),
            ),
            Tenant(
                name="c",
                base_url="https://c.voyado.com",
                api_key=SecretStr("third-key-654321"),
                fallback=FallbackSettings(private_key_passphrase=SecretStr("passphrase-31a7")),
            ),
        ]
    )
    assert sorted(known_secrets(registry)) == sorted(
        [API_KEY, "other-key-123456", PASSWORD, "third-key-654321", "passphrase-31a7"]
    )


@pytest.mark.parametrize(
    ("level", "expected"),
    [(logging.INFO, logging.WARNING), (logging.WARNING, logging.WARNING), (logging.DEBUG, logging.DEBUG)],
)
def test_celery_per_task_lines_are_dropped_at_info(level: int, expected: int) -> None:
    before = {name: logging.getLogger(name).level for name in CELERY_TASK_LOGGERS}
    try:
        quiet_celery_task_lines(level)
        assert {logging.getLogger(name).level for name in CELERY_TASK_LOGGERS} == {expected}
    finally:
        for name, was in before.items():
            logging.getLogger(name).setLevel(was)


def test_a_secret_learned_later_is_scrubbed_too() -> None:
    from workers.logs import SecretScrubber

    scrubber = SecretScrubber(["first-secret-value"])
    scrubber.learn(["second-secret-value"])
    line = scrubber.scrub("first-secret-value and second-secret-value")
    assert "secret-value" not in line
