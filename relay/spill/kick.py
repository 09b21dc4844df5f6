"""The debounced kick a dead letter gives the fallback sweep: one sweep per tenant per window.

:class:`DebouncedSweepKick` is the runtime's ``on_dead_letter``: the first dead letter of a tenant sends a
sweep of that tenant ``SWEEP_KICK_DEBOUNCE_S`` later (through the ``send`` the process gives it: the
Celery adapter's `tasks.fallback.send_sweep`), and the letters of the same burst ride along.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

import redis
import structlog

from fallback.deadletters import DeadLetter
from relay.keys import SWEEP_KICK_PREFIX

log = structlog.get_logger("relay.spill")

SWEEP_KICK_DEBOUNCE_S: Final = 5.0

SendSweep = Callable[[str, float], None]
"""Sends one sweep of a tenant: ``(tenant, countdown_s)``."""


class DebouncedSweepKick:
    """``on_dead_letter``: at most one sweep sent per tenant per ``debounce_s``; never raises."""

    def __init__(
        self,
        client: redis.Redis | None,
        *,
        send: SendSweep,
        debounce_s: float = SWEEP_KICK_DEBOUNCE_S,
    ) -> None:
        self._redis = client
        self._send = send
        self._debounce_s = debounce_s
        self._last: dict[str, float] = {}
        self._guard = threading.Lock()

    def __call__(self, letter: DeadLetter) -> None:
        try:
            if self._first_in_window(letter.tenant):
                self._send(letter.tenant, self._debounce_s)
        except Exception as exc:  # the letter is stored; beat's sweep will find it anyway
            log.warning("fallback.sweep.kick_failed", tenant=letter.tenant, error=type(exc).__name__)

    def _first_in_window(self, tenant: str) -> bool:
        if self._redis is not None:
            key = f"{SWEEP_KICK_PREFIX}:{tenant}"
            return bool(self._redis.set(key, "1", nx=True, px=int(self._debounce_s * 1000)))
        now = time.monotonic()
        with self._guard:
            if now - self._last.get(tenant, float("-inf")) < self._debounce_s:
                return False
            self._last[tenant] = now
            return True
