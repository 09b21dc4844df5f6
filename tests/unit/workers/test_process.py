"""`workers.process`: a wrong environment is a `SettingsError` naming the variable; passwords never shown."""

from __future__ import annotations

import pytest

from workers.process import ProcessEnv, SettingsError, redact_url, redis_url_problem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("rediss://user:p%40ss@host/1", "rediss://user:***@host/1"),
        ("redis://host:6379/0?password=pw&db=1", "redis://host:6379/0?password=***&db=1"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://user@host/0", "redis://user@host/0"),
        ("at redis://:a@h/0 and sftp://u:b@h/in", "at redis://:***@h/0 and sftp://u:***@h/in"),
    ],
)
def test_redact_url_hides_every_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "redis://:pw@h/3", "rediss://h:6380", "unix:///run/redis.sock", "redis://"],
)
def test_urls_redis_py_takes_are_fine(url: str) -> None:
    assert redis_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "http://:pw@h/0",
            "REDIS_URL http://:***@h/0 is not a Redis URL: it must start with redis://, rediss:// or unix://",
        ),
        (
            "redis//oops",
            "REDIS_URL redis//oops is not a Redis URL: it must start with redis://, rediss:// or unix://",
        ),
        ("redis://h:port/0", "REDIS_URL redis://h:port/0 is not a URL (host:port?)"),
        (
            "redis://:pw@h/zero",
            "REDIS_URL redis://:***@h/zero: the path must be a database number (/0), not /zero",
        ),
    ],
)
def test_a_url_redis_py_cannot_use_is_refused_in_words(url: str, problem: str) -> None:
    assert redis_url_problem(url) == problem


def test_settings_from_a_wrong_redis_url_are_a_settings_error() -> None:
    env = ProcessEnv({"REDIS_URL": "http://:hunter2@h/0"})
    with pytest.raises(SettingsError, match="is not a Redis URL") as raised:
        env.settings  # noqa: B018
    assert "hunter2" not in str(raised.value)


def test_settings_that_do_not_parse_name_each_variable_and_no_value() -> None:
    env = ProcessEnv(
        {
            "ENGAGE_RELAY_WORKER_CONCURRENCY": "many",
            "ENGAGE_RELAY_READ_TIMEOUT_S": "-1",
            "ENGAGE_API_KEY": "k",
        }
    )
    with pytest.raises(SettingsError) as raised:
        env.settings  # noqa: B018
    message = str(raised.value)
    assert message.startswith("the environment is not valid: ")
    assert "ENGAGE_RELAY_WORKER_CONCURRENCY: Input should be a valid integer" in message
    assert "ENGAGE_RELAY_READ_TIMEOUT_S: Input should be greater than 0" in message
    assert "\n" not in message and "many" not in message


def test_the_default_environment_makes_settings() -> None:
    assert ProcessEnv({}).settings.redis_url == "redis://127.0.0.1:6379/0"
