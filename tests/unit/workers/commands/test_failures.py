"""`workers.commands._failures`: the one line each known failure becomes, and nothing secret in it."""

from __future__ import annotations

import ftplib

import paramiko
import pytest
import redis
import requests

from engage.errors import AuthenticationFailed, EngageUnreachable, ValidationFailed
from fallback.checkpoint import CheckpointError
from migration.jobs import MigrationSetupError
from relay.errors import UnknownTenant
from relay.retry import LadderError
from relay.tenant_store import SecretKeyError, TenantStoreError
from relay.tenants_file import TenantConfigError
from workers.commands._failures import FAILURES, Failure, explain, known
from workers.process import SettingsError

REDIS_URL = "redis://:hunter2-pw@10.0.0.5:6380/2"
SHOWN_REDIS_URL = "redis://:***@10.0.0.5:6380/2"


def _http_error(cls: type[requests.RequestException]) -> requests.RequestException:
    request = requests.Request("GET", "http://user:http-pw@engage.test:8080/api/v3/contacts?email=k@x.se")
    return cls(
        "HTTPConnectionPool(...): Max retries exceeded with url: /api/v3/contacts?email=k@x.se",
        request=request.prepare(),
    )


CASES: list[tuple[BaseException, str]] = [
    (
        redis.ConnectionError("Error 111 connecting to 10.0.0.5:6380. Connection refused."),
        f"Redis at {SHOWN_REDIS_URL} is not reachable (ConnectionError): is it running? REDIS_URL selects it",
    ),
    (
        redis.AuthenticationError("invalid username-password pair"),
        f"Redis at {SHOWN_REDIS_URL} refused the login (AuthenticationError): check the user and password "
        "in REDIS_URL",
    ),
    (
        redis.TimeoutError("Timeout connecting to server"),
        f"Redis at {SHOWN_REDIS_URL} did not answer in time (TimeoutError): is it running and reachable? "
        "REDIS_URL selects it",
    ),
    (
        redis.ResponseError(
            'Command # 1 (XADD engage:events * event {"email": "karin@example.se"}) of pipeline '
            "caused error: WRONGTYPE Operation against a key holding the wrong kind of value"
        ),
        f"Redis at {SHOWN_REDIS_URL} answered with an error (ResponseError: WRONGTYPE Operation against "
        "a key holding the wrong kind of value): is REDIS_URL the relay's Redis?",
    ),
    (
        redis.ResponseError("unknown command 'FOO', with args beginning with: 'karin@example.se'"),
        f"Redis at {SHOWN_REDIS_URL} answered with an error (ResponseError: unknown command 'FOO'): "
        "is REDIS_URL the relay's Redis?",
    ),
    (
        AuthenticationFailed(status=401, method="GET", path="/api/v3/contacts?email=k@x.se"),
        "Engage refused the call (AuthenticationFailed: GET /api/v3/contacts -> 401): check the tenant's "
        "API key and base_url",
    ),
    (
        EngageUnreachable("connection failed", method="POST", path="/api/v3/contacts/bulk"),
        "Engage is not answering (EngageUnreachable: POST /api/v3/contacts/bulk (connection failed)): "
        "is it up, and is the tenant's base_url right?",
    ),
    (
        ValidationFailed(status=422, method="POST", path="/api/v3/receipts"),
        "Engage refused the request (ValidationFailed: POST /api/v3/receipts -> 422)",
    ),
    (
        _http_error(requests.ConnectionError),
        "Engage at http://user:***@engage.test:8080 is not reachable (ConnectionError): is it up, and is "
        "the tenant's base_url right?",
    ),
    (
        _http_error(requests.ConnectTimeout),
        "Engage at http://user:***@engage.test:8080 is not reachable (ConnectTimeout): is it up, and is "
        "the tenant's base_url right?",
    ),
    (
        _http_error(requests.ReadTimeout),
        "Engage at http://user:***@engage.test:8080 did not answer in time (ReadTimeout): is it up, and is "
        "the tenant's base_url right?",
    ),
    (
        _http_error(requests.TooManyRedirects),
        "the HTTP call to http://user:***@engage.test:8080 failed (TooManyRedirects)",
    ),
    (
        ftplib.error_perm("530 Login incorrect."),
        "the FTP server refused (error_perm: 530 Login incorrect.): check the tenant's fallback host, "
        "login, remote_dir",
    ),
    (
        paramiko.AuthenticationException("Authentication failed."),
        "the SFTP server failed (AuthenticationException: Authentication failed.): check the tenant's "
        "fallback host, login, key",
    ),
    (SettingsError("REDIS_URL x is not a Redis URL"), "REDIS_URL x is not a Redis URL"),
    (
        TenantConfigError("tenants.toml: tenant acme: ACME_KEY is not set"),
        "tenants.toml: tenant acme: ACME_KEY is not set",
    ),
    (SecretKeyError("ENGAGE_RELAY_SECRET_KEY is not set"), "ENGAGE_RELAY_SECRET_KEY is not set"),
    (TenantStoreError("no stored tenant 'acme'"), "no stored tenant 'acme'"),
    (LadderError("retry step -1.0 s is negative"), "retry step -1.0 s is negative"),
    (UnknownTenant("nope"), "unknown tenant 'nope'"),
    (MigrationSetupError("--months must be at least 1"), "--months must be at least 1"),
    (CheckpointError("the checkpoint is of another file"), "the checkpoint is of another file"),
]


@pytest.mark.parametrize(("exc", "line"), CASES, ids=[type(exc).__name__ for exc, _ in CASES])
def test_each_known_failure_is_one_line_naming_the_service_and_what_to_check(
    exc: BaseException, line: str
) -> None:
    # When a command fails with it
    said = explain(exc, redis_url=lambda: REDIS_URL)
    # Then the line is the one expected: one line, no password, no query string, no event data
    assert said == line
    assert "\n" not in said
    for secret in ("hunter2-pw", "http-pw", "karin@example.se", "k@x.se"):
        assert secret not in said


def test_anything_else_keeps_its_traceback() -> None:
    for bug in (KeyError("x"), ValueError("bad"), TypeError("t"), OSError("disk")):
        assert explain(bug, redis_url=lambda: REDIS_URL) is None


def test_a_multi_line_message_is_one_line() -> None:
    said = explain(TenantConfigError("tenants.toml is not valid:\n  acme.base_url: missing\n"), redis_url=str)
    assert said == "tenants.toml is not valid:; acme.base_url: missing"


def test_the_redis_url_is_asked_for_only_when_the_line_names_redis() -> None:
    def never() -> str:
        raise AssertionError("the settings were built for a line that does not name Redis")

    assert explain(LadderError("retry step -1.0 s is negative"), redis_url=never) is not None


def test_a_library_never_imported_matches_nothing() -> None:
    # Given a row for a module that is not in sys.modules
    row = Failure("a_module_nobody_imported", "Error", "{detail}")
    # Then no exception matches it (and looking did not import it)
    assert not row.matches(Exception("x"))
    import sys

    assert "a_module_nobody_imported" not in sys.modules


def test_a_subclass_row_comes_before_its_base() -> None:
    # Given the rows in order, each matched by the class it names
    import importlib

    classes = [getattr(importlib.import_module(f.module), f.name) for f in FAILURES]
    # Then no row is hidden by an earlier row for one of its bases
    for later, cls in enumerate(classes):
        for earlier in classes[:later]:
            assert not issubclass(cls, earlier), f"{cls.__name__} is hidden by {earlier.__name__}"
    assert known(UnknownTenant("x")) is FAILURES[[f.name for f in FAILURES].index("UnknownTenant")]
