"""Gauges computed at scrape time from Redis (bounded reads, `relay.state.read_state`).

Every process that serves metrics exports the same values (they come from the shared Redis):
aggregate them with `max`, not `sum`. `engage_relay_redis_up` is 0 when Redis could not be read.
Fallback files pending are counted in each tenant's local outbox folder on the scraped machine.

Per tenant, the hold: `engage_relay_tenant_held` (1 while its events wait: breaker not closed, or
paused), `engage_relay_tenant_held_seconds` (since when), `engage_relay_tenant_paused`,
`engage_relay_breaker_cause{cause}` (1 for the breaker's cause, one of `relay.state.CAUSE_KINDS` or
`other`, only while the breaker is not closed), `engage_relay_schedule_jobs{lane,state}` (due, waiting,
in_flight), `engage_relay_held_jobs{lane}` (waiting while held), `engage_relay_spilled_pending`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import redis
import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from relay.keys import EVENTS_GROUP
from relay.state import BreakerInfoReader, RelayState, read_state
from relay.tenants import Tenant
from schemas.publish import EVENTS_STREAM

log = structlog.get_logger(__name__)

BREAKER_STATES = ("closed", "half_open", "open")
JOB_STATES = ("due", "waiting", "in_flight")


class RelayStateCollector(Collector):
    def __init__(
        self,
        client: redis.Redis,
        tenants: Sequence[Tenant],
        *,
        events_stream: str = EVENTS_STREAM,
        events_group: str = EVENTS_GROUP,
        breaker_info: BreakerInfoReader | None = None,
    ) -> None:
        self._redis = client
        self._tenants = list(tenants)
        self._stream = events_stream
        self._group = events_group
        self._breaker_info = breaker_info

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("engage_relay_redis_up", "1 when Redis answered this scrape.")
        try:
            state = read_state(
                self._redis,
                self._tenants,
                events_stream=self._stream,
                events_group=self._group,
                breaker_info=self._breaker_info,
            )
        except redis.RedisError as exc:
            log.warning("metrics.redis_unavailable", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        def gauge(name: str, help_: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"engage_relay_{name}", help_, value=value)

        s = state.stream
        yield gauge("events_stream_length", "Entries in the events stream.", s.length)
        yield gauge("events_stream_pending", "Entries delivered to ingest, not yet acknowledged.", s.pending)
        if s.lag is not None:
            yield gauge("events_stream_lag", "Entries not yet read by the ingest group.", s.lag)
        yield gauge("dead_letters", "Dead letters waiting (all tenants).", state.dead_letters_total)
        yield gauge("rejected", "Envelopes in the rejected store.", state.rejected_total)

        breaker = GaugeMetricFamily(
            "engage_relay_breaker_state",
            "1 for the tenant's current breaker state.",
            labels=["tenant", "state"],
        )
        dead = GaugeMetricFamily(
            "engage_relay_tenant_dead_letters", "Dead letters per tenant (bounded count).", labels=["tenant"]
        )
        cooldown = GaugeMetricFamily(
            "engage_relay_rate_limit_cooldown_seconds",
            "Remaining 429 cooldown of the key.",
            labels=["tenant"],
        )
        budget = GaugeMetricFamily(
            "engage_relay_rate_budget_per_second", "Configured requests/s for the key.", labels=["tenant"]
        )
        rate_now = GaugeMetricFamily(
            "engage_relay_rate_now_per_second",
            "Requests/s the key hands out now: its budget, or less while a 429 has lowered it.",
            labels=["tenant"],
        )
        files = GaugeMetricFamily(
            "engage_relay_fallback_files_pending",
            "Finished files in the tenant's local outbox, waiting for upload.",
            labels=["tenant"],
        )
        for t in state.tenants:
            for name in BREAKER_STATES:
                breaker.add_metric([t.name, name], 1.0 if t.breaker == name else 0.0)
            dead.add_metric([t.name], t.dead_letters)
            cooldown.add_metric([t.name], t.cooldown_s)
            budget.add_metric([t.name], t.rate_budget_per_s)
            rate_now.add_metric([t.name], t.rate_now_per_s or t.rate_budget_per_s)
            if t.files_pending is not None:
                files.add_metric([t.name], t.files_pending)
        yield from (breaker, dead, cooldown, budget, rate_now, files)
        yield from hold_gauges(state)


def hold_gauges(state: RelayState) -> Iterator[GaugeMetricFamily]:
    """Each tenant's hold, its cause, and the schedule's jobs per lane."""
    held = GaugeMetricFamily(
        "engage_relay_tenant_held",
        "1 while the tenant's events are held (breaker not closed, or paused).",
        labels=["tenant"],
    )
    held_s = GaugeMetricFamily(
        "engage_relay_tenant_held_seconds",
        "Seconds since the tenant's hold began (0 when not held).",
        labels=["tenant"],
    )
    paused = GaugeMetricFamily(
        "engage_relay_tenant_paused", "1 while an operator has paused the tenant.", labels=["tenant"]
    )
    cause = GaugeMetricFamily(
        "engage_relay_breaker_cause",
        "1 for the cause of the tenant's open breaker (key_refused, misconfigured, timeout, unreachable, "
        "server_error, other).",
        labels=["tenant", "cause"],
    )
    jobs = GaugeMetricFamily(
        "engage_relay_schedule_jobs",
        "Admitted, unsettled events per lane: due now, waiting for later, in flight to the workers.",
        labels=["tenant", "lane", "state"],
    )
    held_jobs = GaugeMetricFamily(
        "engage_relay_held_jobs", "Events waiting while the tenant is held.", labels=["tenant", "lane"]
    )
    spilled = GaugeMetricFamily(
        "engage_relay_spilled_pending",
        "Events a long outage handed to the files, not yet delivered by file.",
        labels=["tenant"],
    )
    for t in state.tenants:
        held.add_metric([t.name], 1.0 if t.on_hold else 0.0)
        held_s.add_metric([t.name], round(t.held_s(state.read_at), 1))
        paused.add_metric([t.name], 1.0 if t.paused_by is not None else 0.0)
        if t.cause_kind is not None:
            cause.add_metric([t.name, t.cause_kind], 1.0)
        _, per_lane = t.held_in_lanes()
        for lane, counts in t.lanes.items():
            for name in JOB_STATES:
                jobs.add_metric([t.name, lane, name], getattr(counts, name))
            held_jobs.add_metric([t.name, lane], per_lane[lane])
        spilled.add_metric([t.name], t.spilled_pending)
    yield from (held, held_s, paused, cause, jobs, held_jobs, spilled)
