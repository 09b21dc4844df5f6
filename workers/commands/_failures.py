"""One line instead of a traceback: which service failed, how, and what to check (`explain`).

`workers.cli` turns every failure listed in `FAILURES` into a `click.ClickException` (one line on stderr,
exit status 1); anything else is a bug and keeps its traceback. A failure is matched by the module that
defines its class, looked up in `sys.modules`: an exception of a library that was never imported cannot
have been raised, so knowing about Redis, requests or paramiko costs `engage-relay --help` nothing.
The first matching row wins, so a subclass comes before its base. No message shows a password: the
REDIS_URL is redacted, and so is any URL in an exception's own text.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from workers.process import redact_url

MAX_DETAIL_CHARS = 300
# redis-py puts a pipeline's failing command, arguments and all (an event's data), before Redis's reply
_PIPELINE_PREFIX_RE = re.compile(r"^Command # \d+ \(.*\) of pipeline caused error: ", re.DOTALL)
_REDIS_ECHOED_ARGS = ", with args beginning with"  # Redis's "unknown command" reply quotes the arguments


def one_line(text: str) -> str:
    """The text on one line (its lines joined by `; `), at most MAX_DETAIL_CHARS."""
    joined = "; ".join(line.strip() for line in text.splitlines() if line.strip())
    return joined if len(joined) <= MAX_DETAIL_CHARS else joined[: MAX_DETAIL_CHARS - 1] + "…"


def message(exc: BaseException) -> str:
    """The exception's own text, on one line."""
    return one_line(str(exc))


def redis_reply(exc: BaseException) -> str:
    """Redis's reply without the data a command carried: never an argument of ours."""
    reply = _PIPELINE_PREFIX_RE.sub("", str(exc))
    return one_line(reply.split(_REDIS_ECHOED_ARGS, 1)[0])


@dataclass(frozen=True)
class Failure:
    """Exceptions of class `module.name` (and its subclasses) and the line that says what happened.

    `text` may use {redis} (the process's REDIS_URL, redacted), {url} (the HTTP origin a `requests` error
    names), {kind} (the exception's class) and {detail} (what `detail` makes of the exception: its text
    on one line, unless the text may hold data that must not be shown).
    """

    module: str
    name: str
    text: str
    detail: Callable[[BaseException], str] = message

    def matches(self, exc: BaseException) -> bool:
        cls = getattr(sys.modules.get(self.module), self.name, None)
        return isinstance(cls, type) and isinstance(exc, cls)


FAILURES: tuple[Failure, ...] = (
    # our own errors first (UnknownTenant is an EngageError too): their messages say where and what
    Failure("workers.process", "SettingsError", "{detail}"),
    Failure("relay.tenants_file", "TenantConfigError", "{detail}"),
    Failure("relay.tenant_store", "SecretKeyError", "{detail}"),
    Failure("relay.tenant_store", "TenantStoreError", "{detail}"),
    Failure("relay.retry", "LadderError", "{detail}"),
    Failure("relay.errors", "UnknownTenant", "{detail}"),
    Failure("migration.jobs", "MigrationSetupError", "{detail}"),
    Failure("fallback.checkpoint", "CheckpointError", "{detail}"),
    # Redis (REDIS_URL); AuthenticationError is a ConnectionError, so it comes first
    Failure(
        "redis.exceptions",
        "AuthenticationError",
        "Redis at {redis} refused the login ({kind}): check the user and password in REDIS_URL",
    ),
    Failure(
        "redis.exceptions",
        "ConnectionError",
        "Redis at {redis} is not reachable ({kind}): is it running? REDIS_URL selects it",
    ),
    Failure(
        "redis.exceptions",
        "TimeoutError",
        "Redis at {redis} did not answer in time ({kind}): is it running and reachable? REDIS_URL selects it",
    ),
    Failure(
        "redis.exceptions",
        "RedisError",
        "Redis at {redis} answered with an error ({kind}: {detail}): is REDIS_URL the relay's Redis?",
        redis_reply,
    ),
    # Engage, through our client (its errors carry method, path, status and code, never the key)
    Failure(
        "engage.errors",
        "SystemicError",
        "Engage refused the call ({kind}: {detail}): check the tenant's API key and base_url",
    ),
    Failure(
        "engage.errors",
        "RetryableError",
        "Engage is not answering ({kind}: {detail}): is it up, and is the tenant's base_url right?",
    ),
    Failure("engage.errors", "EngageError", "Engage refused the request ({kind}: {detail})"),
    # HTTP outside our client (requests' ConnectTimeout is both a ConnectionError and a Timeout)
    Failure(
        "requests.exceptions",
        "ConnectionError",
        "Engage at {url} is not reachable ({kind}): is it up, and is the tenant's base_url right?",
    ),
    Failure(
        "requests.exceptions",
        "Timeout",
        "Engage at {url} did not answer in time ({kind}): is it up, and is the tenant's base_url right?",
    ),
    Failure(
        "requests.exceptions", "RequestException", "the HTTP call to {url} failed ({kind})"
    ),  # its text holds the query
    # the tenants' file servers
    Failure(
        "ftplib",
        "Error",
        "the FTP server refused ({kind}: {detail}): check the tenant's fallback host, login, remote_dir",
    ),
    Failure(
        "paramiko.ssh_exception",
        "SSHException",
        "the SFTP server failed ({kind}: {detail}): check the tenant's fallback host, login, key",
    ),
)


def http_origin(exc: BaseException) -> str:
    """`scheme://host:port` of the request a `requests` error carries (no path, query or password)."""
    url = getattr(getattr(exc, "request", None), "url", None)
    if not isinstance(url, str):
        return "an HTTP server"
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return redact_url(f"{parts.scheme}://{parts.netloc}") if parts.netloc else "an HTTP server"


def known(exc: BaseException) -> Failure | None:
    """The first row of FAILURES that `exc` is, or None (a bug, whose traceback is worth reading)."""
    return next((failure for failure in FAILURES if failure.matches(exc)), None)


def explain(exc: BaseException, *, redis_url: Callable[[], str]) -> str | None:
    """The one line to print for a known failure, or None for anything else. `redis_url` is asked for
    only when the line names Redis (building the settings costs an import)."""
    failure = known(exc)
    if failure is None:
        return None
    line = failure.text.format(
        redis=redis_url() if "{redis}" in failure.text else "",
        url=http_origin(exc),
        kind=type(exc).__name__,
        detail=failure.detail(exc) or "no message",
    )
    return redact_url(line)
