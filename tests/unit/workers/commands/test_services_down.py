"""Every command with Redis down (a URL to a closed port), or started with a wrong setting: one line on
stderr naming the service and what to check, a non-zero exit, no traceback, no password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from relay.tenant_store import new_secret_key
from tests.support.processes import free_port
from workers.cli import main

REDIS_PASSWORD = "hunter2-redis-pw"
ACME_KEY = "acme-key-never-shown-1"
CONNECT_TIMEOUT_S = 60
ENGAGE_RELAY = Path(sys.executable).with_name("engage-relay")  # the console script pip installed

NEEDS_REDIS: dict[str, list[str]] = {
    "dlq list": ["dlq", "list"],
    "dlq list --json": ["dlq", "list", "--json"],
    "dlq show": ["dlq", "show", "1700000000000-0"],
    "dlq replay": ["dlq", "replay", "--all"],
    "dlq drop": ["dlq", "drop", "--all", "--yes"],
    "tenants list": ["tenants", "list"],
    "tenants remove": ["tenants", "remove", "acme", "--yes"],
    "rejected list": ["rejected", "list"],
    "rejected replay": ["rejected", "replay"],
    "publish": ["publish"],
    "fallback sweep": ["fallback", "sweep"],
    "status": ["status"],
    "status --json": ["status", "--json"],
}
# with ENGAGE_RELAY_SECRET_KEY set the tenants come from the encrypted store in Redis too
NEEDS_REDIS_FOR_STORED_TENANTS: dict[str, list[str]] = {
    "tenants add": [
        "tenants",
        "add",
        "acme",
        "--base-url",
        "https://acme.voyado.com",
        "--api-key-env",
        "ACME_KEY",
    ],
    "tenants show": ["tenants", "show", "acme"],
    "tenants test": ["tenants", "test", "acme"],
    "fallback outbox": ["fallback", "outbox"],
    "migrate contacts": ["migrate", "contacts", "{csv}", "--tenant", "acme", "--dry-run"],
    "migrate receipts": ["migrate", "receipts", "{ndjson}", "--tenant", "acme", "--no-upload"],
}


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A REDIS_URL (with a password) to a port nobody listens on; returns it as a message shows it."""
    port = free_port()
    monkeypatch.setenv("REDIS_URL", f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0")
    monkeypatch.setenv("ACME_KEY", ACME_KEY)
    monkeypatch.setenv("ENGAGE_RELAY_DATA_DIR", str(tmp_path / "var"))
    for name in ("ENGAGE_RELAY_TENANTS_FILE", "ENGAGE_RELAY_SECRET_KEY", "ENGAGE_RELAY_EVENTS_STREAM"):
        monkeypatch.delenv(name, raising=False)
    return f"redis://:***@127.0.0.1:{port}/0"


def assert_one_line(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not an exception click let through
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for text in expected:
        assert text in lines[0]
    for secret in (REDIS_PASSWORD, ACME_KEY):
        assert secret not in result.output


@pytest.mark.parametrize("args", list(NEEDS_REDIS.values()), ids=list(NEEDS_REDIS))
def test_a_command_with_redis_down_says_so_in_one_line(redis_down: str, args: list[str]) -> None:
    # When an operator runs it while Redis is down
    result = CliRunner().invoke(main, args, input='{"id": "evt-1"}\n')
    # Then one line names Redis (its URL redacted) and what to check, and the exit status is 1
    assert_one_line(
        result, f"Redis at {redis_down} is not reachable (ConnectionError)", "REDIS_URL selects it"
    )


@pytest.mark.parametrize(
    "args", list(NEEDS_REDIS_FOR_STORED_TENANTS.values()), ids=list(NEEDS_REDIS_FOR_STORED_TENANTS)
)
def test_a_command_that_reads_stored_tenants_with_redis_down_says_so(
    redis_down: str, args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given tenants kept in the encrypted store, and input files for the migrations
    monkeypatch.setenv("ENGAGE_RELAY_SECRET_KEY", new_secret_key())
    (tmp_path / "c.csv").write_text("email\nk@example.se\n")
    (tmp_path / "r.ndjson").write_text("{}\n")
    args = [a.format(csv=tmp_path / "c.csv", ndjson=tmp_path / "r.ndjson") for a in args]
    # When the command runs while Redis is down
    result = CliRunner().invoke(main, args)
    # Then it says so in one line (the tenants' loader words it its own way when it is the one that fails)
    assert_one_line(result, "Redis", "(ConnectionError)")


def test_a_wrong_secret_key_is_one_line(redis_down: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENGAGE_RELAY_SECRET_KEY", "not-a-key")
    result = CliRunner().invoke(main, ["tenants", "list"])
    assert_one_line(result, "ENGAGE_RELAY_SECRET_KEY is not a valid key")


@pytest.mark.parametrize("command", ["worker", "ingest", "dlq list", "status", "publish"])
def test_a_redis_url_that_is_not_one_is_refused_at_start_up(
    redis_down: str, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a REDIS_URL with the wrong scheme (and a password in it)
    monkeypatch.setenv("REDIS_URL", f"http://:{REDIS_PASSWORD}@127.0.0.1:6379/0")
    # When a process or a command starts
    result = CliRunner().invoke(main, command.split(), input="{}")
    # Then it refuses in one line, before it runs
    assert_one_line(result, "REDIS_URL http://:***@127.0.0.1:6379/0 is not a Redis URL")


@pytest.mark.parametrize("command", ["worker", "ingest", "fallback sweep", "status"])
def test_a_tenants_file_that_does_not_load_is_refused_at_start_up(
    redis_down: str, command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a tenants file whose tenant names a key variable that is not set
    path = tmp_path / "tenants.toml"
    path.write_text('[tenants.acme]\nbase_url = "https://acme.voyado.com"\napi_key_env = "NOT_SET_KEY"\n')
    monkeypatch.setenv("ENGAGE_RELAY_TENANTS_FILE", str(path))
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    # When a process or a command starts
    result = CliRunner().invoke(main, command.split())
    # Then the tenants file's own message is the one line
    assert_one_line(result, "NOT_SET_KEY")


def test_settings_that_do_not_parse_are_refused_at_start_up(
    redis_down: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGAGE_RELAY_WORKER_CONCURRENCY", "many")
    result = CliRunner().invoke(main, ["worker"])
    assert_one_line(result, "the environment is not valid: ENGAGE_RELAY_WORKER_CONCURRENCY")


def test_an_unknown_tenant_is_one_line(redis_down: str, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("email\nk@example.se\n")
    result = CliRunner().invoke(main, ["migrate", "contacts", str(tmp_path / "c.csv"), "--tenant", "nope"])
    assert_one_line(result, "unknown tenant 'nope'")


def test_a_bug_keeps_its_traceback(redis_down: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a command that fails with an exception no row of _failures knows
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr("workers.commands.dlq._store", broken)
    # Then it is not dressed up as a service failure
    result = CliRunner().invoke(main, ["dlq", "list"])
    assert isinstance(result.exception, KeyError)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    return subprocess.run(
        [str(ENGAGE_RELAY), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=CONNECT_TIMEOUT_S,
        check=False,
    )


def test_the_real_command_with_redis_down_prints_one_line_and_fails() -> None:
    # Given the installed `engage-relay` and a Redis URL to a closed port
    port = free_port()
    # When an operator lists dead letters
    run = _run("dlq", "list", env={"REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"})
    # Then: a non-zero exit, exactly one line on stderr, no traceback, no password
    assert run.returncode != 0
    assert run.stderr.splitlines() == [
        f"Error: Redis at redis://:***@127.0.0.1:{port}/0 is not reachable (ConnectionError): "
        "is it running? REDIS_URL selects it"
    ]
    assert "Traceback" not in run.stderr and REDIS_PASSWORD not in run.stdout + run.stderr


def test_the_real_worker_with_a_wrong_redis_url_refuses_to_start() -> None:
    run = _run("worker", env={"REDIS_URL": "redis//127.0.0.1:6379/0"})
    assert run.returncode != 0
    assert run.stderr.splitlines() == [
        "Error: REDIS_URL redis//127.0.0.1:6379/0 is not a Redis URL: it must start with redis://, rediss:// "
        "or unix://"
    ]


def test_the_demo_with_redis_down_says_so_in_one_line(tmp_path: Path) -> None:
    # Given REDIS_URL set to a Redis that is not there (the demo then uses it instead of starting one)
    port = free_port()
    run = _run(
        "demo", "--once", "--dir", str(tmp_path / "demo"), env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    )
    # Then the demo stops at once with one line saying so
    assert run.returncode == 2, run.stdout + run.stderr
    failed = [line for line in run.stdout.splitlines() if "demo failed" in line]
    assert failed == ["demo failed: REDIS_URL is set but Redis does not answer (ConnectionError)"]
    assert "Traceback" not in run.stdout + run.stderr
