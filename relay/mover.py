"""The mover: sends due jobs from the schedule to the workers, a few at a time per tenant and lane.

Celery carries only work that is due now, and not much of it: per tenant and lane at most a few seconds
of the tenant's budget is in flight (`in_flight_caps`), so a tenant with a backlog never fills the broker,
a held tenant sends nothing, and a job sent and not back within its lease is sent again (the
reconciler: a message lost in the broker or with a killed worker costs a delay, never an event).

Per pass and tenant:

- paused, or breaker open: nothing is sent (the tenant's events are held, in the schedule);
- half open: one job, the probe: its result closes the breaker (then the hold drains) or re-opens it;
- closed: the live lane up to its cap, then the backlog lane up to its own (the rate limiter then keeps
  live's reserved share of the budget, `engage.ratelimit`).

The mover runs in the ingest process (`engage-relay ingest`), woken at once when ingest admits events,
and otherwise every `IDLE_PASS_S`; several can run at once (leasing is atomic). Its housekeeping, every
`HOUSEKEEPING_S`, trims the outcome and rejected streams to their retention and spills long outages to
files (relay/spill/outage.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

import redis
import structlog

from engage.ratelimit import Lane
from relay.runtime import Runtime
from relay.schedule import LANES, Job, Schedule
from relay.tenants import Tenant

log = structlog.get_logger(__name__)

LIVE_IN_FLIGHT_S: Final = 2.0  # seconds of a tenant's budget sent ahead in the live lane
BACKLOG_IN_FLIGHT_S: Final = 1.0  # ... and in the backlog lane (of its share)
MIN_IN_FLIGHT: Final = 4  # never fewer jobs in flight per lane than this
BUSY_PASS_S: Final = 0.02  # the next pass, when the last one sent something
IDLE_PASS_S: Final = 0.25  # the next pass, when nothing was due
REDIS_DOWN_PAUSE_S: Final = 1.0
HOUSEKEEPING_S: Final = 5.0


class Dispatch(Protocol):
    """Sends a job to the workers (the Celery adapter's `CeleryDispatch`); raises when it cannot."""

    def send(self, job: Job) -> None: ...


def in_flight_caps(tenant: Tenant) -> dict[Lane, int]:
    budget = tenant.rate_budget_per_s
    return {
        "live": max(MIN_IN_FLIGHT, math.ceil(budget * LIVE_IN_FLIGHT_S)),
        "backlog": max(MIN_IN_FLIGHT, math.ceil(budget * (1 - tenant.live_share) * BACKLOG_IN_FLIGHT_S)),
    }


@dataclass
class MoverStats:
    sent: int = 0
    passes: int = 0
    send_failures: int = 0
    redis_errors: int = 0
    by_tenant: dict[str, int] = field(default_factory=dict)


class Housekeeping(Protocol):
    def __call__(self) -> None: ...


class Mover:
    def __init__(
        self,
        runtime: Callable[[], Runtime],
        dispatch: Dispatch,
        *,
        housekeeping: Housekeeping | None = None,
    ) -> None:
        self._runtime = runtime
        self._dispatch = dispatch
        self._housekeeping = housekeeping
        self._wake = threading.Event()
        self.stats = MoverStats()

    def wake(self) -> None:
        """Ingest admitted events: pass now instead of at the next tick."""
        self._wake.set()

    def pass_once(self) -> int:
        """One pass over every tenant; the number of jobs sent."""
        rt = self._runtime()
        sent = 0
        for tenant in rt.registry:
            if rt.paused(tenant.name):
                continue
            state = rt.circuit.state(tenant.name)
            if state == "open":
                continue
            caps = in_flight_caps(tenant)
            for lane in LANES:
                limit = caps[lane] if state == "closed" else 1
                jobs = rt.schedule.lease(tenant.name, lane, limit, rt.lease_s)
                sent += self._send(rt.schedule, tenant.name, jobs)
                if state != "closed" and jobs:
                    break  # half open: one probe in all
        self.stats.passes += 1
        self.stats.sent += sent
        return sent

    def _send(self, schedule: Schedule, tenant: str, jobs: list[Job]) -> int:
        sent = 0
        for n, job in enumerate(jobs):
            try:
                self._dispatch.send(job)
            except Exception as exc:  # the broker is down: these are due again at once, not in a lease
                self.stats.send_failures += 1
                log.warning("mover.send_failed", tenant=tenant, error=type(exc).__name__, jobs=len(jobs) - n)
                for unsent in jobs[n:]:
                    schedule.unlease(unsent)
                break
            sent += 1
        if sent:
            self.stats.by_tenant[tenant] = self.stats.by_tenant.get(tenant, 0) + sent
        return sent

    def run(self, stop: threading.Event) -> None:
        """Pass until `stop` is set; survives Redis and broker blips."""
        log.info("mover.started")
        next_housekeeping = 0.0
        while not stop.is_set():
            try:
                sent = self.pass_once()
                if self._housekeeping is not None and time.monotonic() >= next_housekeeping:
                    self._housekeeping()
                    next_housekeeping = time.monotonic() + HOUSEKEEPING_S
            except redis.RedisError as exc:
                self.stats.redis_errors += 1
                log.warning("mover.redis_unavailable", error=type(exc).__name__)
                stop.wait(REDIS_DOWN_PAUSE_S)
                continue
            self._wake.wait(BUSY_PASS_S if sent else IDLE_PASS_S)
            self._wake.clear()
        log.info("mover.stopped", sent=self.stats.sent, passes=self.stats.passes)
