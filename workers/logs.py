"""Structured JSON logs (structlog), configured once per process; secrets are redacted on the way out."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = re.compile(r"(api[_-]?key|apikey|password|passwd|secret|token|authorization)", re.IGNORECASE)
REDACTED = "***"


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Drop the value of any field whose name says it is a secret, at any depth of dicts."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if SECRET_KEYS.search(str(k)) else scrub(v) for k, v in value.items()}
        return value

    for key in list(event_dict):
        event_dict[key] = REDACTED if SECRET_KEYS.search(key) else scrub(event_dict[key])
    return event_dict


def configure_logging(level: int = logging.INFO, *, json: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
