"""Structured JSON logs (structlog), configured once per process; secrets are redacted on the way out.

Two processors guard every line, after exceptions are rendered to text so tracebacks are covered too:
- `redact_secrets` replaces the value of any field whose name says it is a secret (api_key, password...);
- `SecretScrubber` replaces every occurrence of a known secret value (each tenant's API key and
  fallback password, given to `configure_logging(secrets=...)`) inside any string, at any depth.
Lines go to the process's current standard error.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

from relay.tenants import TenantRegistry

SECRET_KEYS = re.compile(r"(api[_-]?key|apikey|password|passwd|secret|token|authorization)", re.IGNORECASE)
REDACTED = "***"
MIN_SCRUBBED_SECRET_CHARS = 6
"""Shorter values are not scrubbed by value: they would blank out ordinary words (names still redact)."""


def _scrub_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEYS.search(str(k)) else _scrub_names(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_names(v) for v in value)
    return value


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop the value of any field whose name says it is a secret, at any depth of dicts and lists."""
    for key in list(event_dict):
        event_dict[key] = REDACTED if SECRET_KEYS.search(key) else _scrub_names(event_dict[key])
    return event_dict


class SecretScrubber:
    """A processor that replaces known secret values wherever they appear in a line's strings."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.learn(secrets)

    def learn(self, secrets: Iterable[str]) -> None:
        """Scrub these too from now on (a tenant added while the process runs)."""
        self._values |= {s for s in secrets if len(s) >= MIN_SCRUBBED_SECRET_CHARS}
        values = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __repr__(self) -> str:
        count = 0 if self._pattern is None else self._pattern.pattern.count("|") + 1
        return f"SecretScrubber({count} secret(s))"

    def scrub(self, value: Any) -> Any:
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(REDACTED, value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.scrub(v) for v in value)
        if isinstance(value, BaseException):
            return self._pattern.sub(REDACTED, repr(value))
        return value

    def __call__(self, _: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key in list(event_dict):
            event_dict[key] = self.scrub(event_dict[key])
        return event_dict


def known_secrets(registry: TenantRegistry) -> list[str]:
    """Every secret value of a deployment's tenants, for `configure_logging(secrets=...)`."""
    found: list[str] = []
    for tenant in registry:
        found.append(tenant.api_key.get_secret_value())
        if tenant.fallback.password is not None:
            found.append(tenant.fallback.password.get_secret_value())
        if tenant.fallback.private_key_passphrase is not None:
            found.append(tenant.fallback.private_key_passphrase.get_secret_value())
        if tenant.soft_id_key is not None:
            found.append(tenant.soft_id_key.get_secret_value())
    return found


class StderrLogger(structlog.PrintLogger):
    """Prints each line to whatever `sys.stderr` is at that moment (not the stream seen at start)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def _stderr_logger(*_: Any) -> StderrLogger:
    return StderrLogger(sys.stderr)


_scrubbers: list[SecretScrubber] = []  # the one of the current configuration (none before it)


def learn_secrets(secrets: Iterable[str]) -> None:
    """The configured logs scrub these values too from now on: a live registry's listener calls it with
    the secrets of every tenant it reloaded."""
    for scrubber in _scrubbers[-1:]:
        scrubber.learn(secrets)


def processors_for(*, json: bool = True, secrets: Iterable[str] = ()) -> list[Any]:
    """The processor chain: context, level, time, exceptions as text, both redactions, then rendering."""
    scrubber = SecretScrubber(secrets)
    _scrubbers[:] = [scrubber]
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
        scrubber,
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False),
    ]


def configure_logging(level: int = logging.INFO, *, json: bool = True, secrets: Iterable[str] = ()) -> None:
    structlog.configure(
        processors=processors_for(json=json, secrets=secrets),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=_stderr_logger,
        # Not cached: module-level loggers then follow a later re-configuration (tests capture logs).
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")


CELERY_TASK_LOGGERS = ("celery.app.trace", "celery.worker.strategy")
"""Celery's two INFO lines per task ("received", "succeeded in ...: <return value>"). The relay logs each
event's own line with its task id (`engage.event.applied`, `.parked`...), so a worker at INFO drops these
two (a line costs about 0.1 ms, plus a saferepr of the task's result); their warnings and errors stay."""


def quiet_celery_task_lines(level: int) -> None:
    """Celery's per-task lines only at WARNING and above (or at DEBUG, when asked for)."""
    for name in CELERY_TASK_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
