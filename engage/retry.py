"""The short, in-process retry policy: a few quick tries, and only for calls that are safe to repeat.

Which calls are safe is decided in ``engage.transport`` (``should_retry``); this module holds the numbers.
Longer waits belong to the task ladder, not here (Voyado: retry as late as possible).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tenacity import wait_exponential, wait_none, wait_random
from tenacity.wait import wait_base

SHORT_RETRY_ATTEMPTS = 3
"""Tries in all, the first included."""
SHORT_RETRY_WAIT_MIN_S = 0.2
SHORT_RETRY_WAIT_MAX_S = 2.0
SHORT_RETRY_JITTER_S = 0.2


def _default_wait() -> wait_base:
    return wait_exponential(multiplier=SHORT_RETRY_WAIT_MIN_S, max=SHORT_RETRY_WAIT_MAX_S) + wait_random(
        0, SHORT_RETRY_JITTER_S
    )


@dataclass(frozen=True)
class ShortRetryPolicy:
    """How many tries and how long between them (a tenacity wait strategy)."""

    attempts: int = SHORT_RETRY_ATTEMPTS
    wait: wait_base = field(default_factory=_default_wait)

    def retry_with(self, *, attempts: int | None = None, wait: wait_base | None = None) -> ShortRetryPolicy:
        """A copy with some values changed, e.g. ``policy.retry_with(wait=wait_none())`` in tests."""
        return replace(self, attempts=self.attempts if attempts is None else attempts, wait=wait or self.wait)

    def without_waiting(self) -> ShortRetryPolicy:
        return self.retry_with(wait=wait_none())


DEFAULT_SHORT_RETRY = ShortRetryPolicy()
NO_RETRY = ShortRetryPolicy(attempts=1, wait=wait_none())
