"""The fallback sweep as a Celery task, and the debounced kick a dead letter gives it.

- `engage.fallback.sweep` (queue `engage.fallback`): without a tenant (beat, every
  ``FALLBACK_SWEEP_INTERVAL_S``) it sends one sweep per tenant, so one tenant's slow or failing file
  server never delays another's; with a tenant it sweeps that tenant (tasks/fallback_sweep.py) under the
  tenant's lock, and returns at once when another worker is already sweeping it.
- :class:`DebouncedSweepKick` is the runtime's ``on_dead_letter``: the first dead letter of a tenant sends
  a sweep of that tenant ``SWEEP_KICK_DEBOUNCE_S`` later, and the letters of the same burst ride along.

The workers that consume `engage.fallback` must see the tenants' outbox folders (`fallback.local_dir`):
one machine, or a shared volume.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Final

import redis
import structlog
from celery import Task, shared_task

from fallback.deadletters import DeadLetter
from fallback.sweep_lock import MemorySweepLock, RedisSweepLock, SweepLock
from tasks import runtime as runtime_slot
from tasks.fallback_letters import FileHooks
from tasks.fallback_sweep import SweepOptions, sweep_tenant
from tasks.routing import FALLBACK_QUEUE
from tasks.runtime import Runtime
from tasks.tenants import UnknownTenant

log = structlog.get_logger("tasks.fallback")

SWEEP_TASK: Final = "engage.fallback.sweep"
FALLBACK_SWEEP_INTERVAL_S: Final = 60.0
SWEEP_KICK_DEBOUNCE_S: Final = 5.0
SWEEP_KICK_PREFIX: Final = "engage:fallback:kick"

_state_guard = threading.Lock()
_hooks = FileHooks()
_memory_lock = MemorySweepLock()


def install_file_hooks(hooks: FileHooks) -> None:
    """The worker's metrics for files written and uploaded (workers/celery_app.py)."""
    global _hooks  # noqa: PLW0603 - one per process, set at start-up
    with _state_guard:
        _hooks = hooks


def sweep_lock_for(rt: Runtime) -> SweepLock:
    """The shared Redis lease when the runtime has Redis, else this process's lock."""
    return RedisSweepLock(rt.redis) if rt.redis is not None else _memory_lock


def sweep_options() -> SweepOptions:
    return SweepOptions(hooks=_hooks)


@shared_task(name=SWEEP_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep(self: Task, tenant: str | None = None) -> dict[str, Any]:
    rt = runtime_slot.current()
    if tenant is None:
        names = list(rt.registry.names())
        for name in names:
            send_sweep(name)
        return {"tenants": names}
    try:
        target = rt.registry.get(tenant)
    except UnknownTenant:
        log.warning("fallback.sweep.unknown_tenant", tenant=tenant)
        return {"tenant": tenant, "unknown": True}
    return sweep_tenant(rt, target, sweep_lock_for(rt), sweep_options()).as_dict()


def send_sweep(tenant: str, countdown_s: float = 0.0) -> None:
    sweep.apply_async(kwargs={"tenant": tenant}, countdown=countdown_s, queue=FALLBACK_QUEUE)


class DebouncedSweepKick:
    """``on_dead_letter``: at most one sweep sent per tenant per ``debounce_s``; never raises."""

    def __init__(
        self,
        client: redis.Redis | None,
        *,
        send: Callable[[str, float], None] = send_sweep,
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
