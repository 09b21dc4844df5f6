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

A pass costs two Redis round trips however many tenants there are: every tenant's pause and breaker
state in one read (`Runtime.gates`), then every lane's lease in one script (`Schedule.lease_many`); and
its jobs go to the broker in one publish (`Dispatch.send_all`, a kombu publish batch). A busy mover passes
every `BUSY_PASS_S`, so round trips per tenant or per job would cost ingest CPU on every event.

The mover runs in the ingest process (`engage-relay ingest`), woken at once when ingest admits events,
and otherwise every `IDLE_PASS_S`; several can run at once (leasing is atomic). Its housekeeping, every
`HOUSEKEEPING_S`, trims the outcome and rejected streams to their retention and spills long outages to
files (relay/spill/outage.py).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import redis
import structlog

from engage.ratelimit import Lane
from relay.runtime import Gate, Runtime
from relay.schedule import LANES, Job, LeaseRequest, Schedule
from relay.tenants import Tenant

log = structlog.get_logger(__name__)

LIVE_IN_FLIGHT_S: Final = 2.0  # seconds of a tenant's budget sent ahead in the live lane
BACKLOG_IN_FLIGHT_S: Final = 1.0  # ... and in the backlog lane (of its share)
MIN_IN_FLIGHT: Final = 4  # never fewer jobs in flight per lane than this
BUSY_PASS_S: Final = 0.02  # the next pass, when the last one sent something
IDLE_PASS_S: Final = 0.25  # the next pass, when nothing was due
REDIS_DOWN_PAUSE_S: Final = 1.0
HOUSEKEEPING_S: Final = 5.0
PROBES_PER_PASS: Final = 1  # a half-open tenant's probe: one job in all lanes (the breaker lets one through)


class Dispatch(Protocol):
    """Sends jobs to the workers (the Celery adapter's `CeleryDispatch`)."""

    def send_all(self, jobs: Sequence[Job]) -> None:
        """Send every job, in order, in one go (one broker round trip when the broker can); raises when it
        cannot, and then none of them counts as sent (a job sent twice is harmless: the claim and the
        settled marker make the second copy a no-op)."""
        ...


def in_flight_caps(tenant: Tenant) -> dict[Lane, int]:
    budget = tenant.rate_budget_per_s
    return {
        "live": max(MIN_IN_FLIGHT, math.ceil(budget * LIVE_IN_FLIGHT_S)),
        "backlog": max(MIN_IN_FLIGHT, math.ceil(budget * (1 - tenant.live_share) * BACKLOG_IN_FLIGHT_S)),
    }


def lease_request(tenant: Tenant, gate: Gate) -> LeaseRequest | None:
    """What a pass leases for the tenant: nothing while paused or open, the probe when half open, else each
    lane up to its cap (live before backlog)."""
    if gate in ("paused", "open"):
        return None
    if gate == "half_open":
        return LeaseRequest(tenant.name, dict.fromkeys(LANES, PROBES_PER_PASS), total=PROBES_PER_PASS)
    caps = in_flight_caps(tenant)
    return LeaseRequest(tenant.name, {lane: caps[lane] for lane in LANES})


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
        """One pass over every tenant; the number of jobs sent. Two Redis round trips whatever the number
        of tenants (every gate, then every lease), as a busy mover passes every `BUSY_PASS_S`."""
        rt = self._runtime()
        tenants = list(rt.registry)
        gates = rt.gates([tenant.name for tenant in tenants])
        requests = [r for t in tenants if (r := lease_request(t, gates[t.name])) is not None]
        leased = rt.schedule.lease_many(requests, rt.lease_s) if requests else []
        jobs = [job for lanes in leased for lane_jobs in lanes.values() for job in lane_jobs]  # live first
        sent = self._send(rt.schedule, jobs)
        self.stats.passes += 1
        self.stats.sent += sent
        return sent

    def _send(self, schedule: Schedule, jobs: list[Job]) -> int:
        """Every job of the pass in one publish; when the broker refuses, they are due again at once."""
        if not jobs:
            return 0
        try:
            self._dispatch.send_all(jobs)
        except Exception as exc:  # the broker is down: these are due again at once, not in a lease
            self.stats.send_failures += 1
            log.warning("mover.send_failed", error=type(exc).__name__, jobs=len(jobs))
            for unsent in jobs:
                schedule.unlease(unsent)
            return 0
        for job in jobs:
            self.stats.by_tenant[job.tenant] = self.stats.by_tenant.get(job.tenant, 0) + 1
        return len(jobs)

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
