"""What one phase of the pipeline bench measured, and how it is measured for the relay.

A phase publishes a list of events (all at once: a backlog; or paced at a fixed rate) and waits for their
outcomes. Engage calls are counted by the simulator (`GET /_sim/state`), never by the relay: the
"steady" rate is the simulator's count between the moments 10 % and 90 % of the phase's outcomes
were in, divided by the time between them. Latency is publish time -> the outcome's `at`.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from bench._procs import Relay
from bench._workload import BenchEvent
from relay.keys import OUTCOMES_STREAM
from relay.outcomes import Outcome
from schemas.publish import EVENTS_STREAM, envelope_json
from tests.support.simulator import SimAdmin

STEADY_FROM = 0.10
STEADY_TO = 0.90
POLL_S = 0.02
PHASE_TIMEOUT_S = 240.0
PUBLISH_BATCH = 200
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]
EXPECTED_OUTCOMES = frozenset({"applied", "superseded"})


def sim_calls(state: Mapping[str, Any]) -> Counter[int]:
    """Answers the simulator gave on Engage routes, by status."""
    by_status: Counter[int] = Counter()
    for statuses in state["requests"].values():
        for status, count in statuses.items():
            by_status[int(status)] += count
    return by_status


@dataclass
class PhaseResult:
    """One phase's figures; the budget is the relay's per-key budget (for the % column)."""

    events: int
    elapsed_s: float  # first publish -> last outcome
    calls: Counter[int]  # by status, counted by the simulator over the whole phase
    steady_calls_per_s: float
    calls_by_kind: dict[str, list[int]]  # per event kind: the calls each event cost
    latencies_s: list[float]
    cpu_s: float  # the relay's processes together (or the baseline loop)
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: int = 0  # task retries the worker logged (`engage.event.retry`)
    tenant_calls_per_s: dict[str, float] = field(default_factory=dict)
    cpu_ingest_s: float = 0.0  # of cpu_s, the ingest process's share

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def calls_per_event(self, kinds: frozenset[str] | None = None) -> float:
        counts = [n for kind, ns in self.calls_by_kind.items() if kinds is None or kind in kinds for n in ns]
        return statistics.fmean(counts) if counts else float("nan")

    def latency_quantile(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def cpu_per_1000(self) -> float:
        return self.cpu_s * 1000 / self.events

    def accepted_per_s(self) -> float:
        """Calls Engage did not refuse with 429, per second of the whole phase."""
        return (self.total_calls - self.calls.get(429, 0)) / self.elapsed_s


def steady_window(done_at: Sequence[float]) -> tuple[float, float]:
    """The times at which 10 % and 90 % of the completions were in."""
    ordered = sorted(done_at)
    last = len(ordered) - 1
    return ordered[int(STEADY_FROM * last)], ordered[int(STEADY_TO * last)]


def tenant_rates(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """Per tenant: calls of the events completed inside the tenant's own 10-90 % window, per second."""
    rates: dict[str, float] = {}
    for tenant in sorted({o.tenant for o in outcomes}):
        mine = [o for o in outcomes if o.tenant == tenant]
        start, end = steady_window([o.at.timestamp() for o in mine])
        inside = sum(len(o.calls) for o in mine if start < o.at.timestamp() <= end)
        rates[tenant] = inside / (end - start) if end > start else float("nan")
    return rates


def _length(client: redis.Redis) -> int:
    return cast(int, client.xlen(OUTCOMES_STREAM))


def _read_outcomes(relay: Relay, after: str) -> list[Outcome]:
    client = relay.client()
    try:
        entries = cast(StreamEntries, client.xrange(OUTCOMES_STREAM, min=f"({after}"))
    finally:
        client.close()
    return [Outcome.model_validate_json(fields[b"outcome"]) for _, fields in entries]


def run_relay_phase(
    relay: Relay, sim: SimAdmin, events: Sequence[BenchEvent], pace_per_s: float | None = None
) -> PhaseResult:
    """Publish `events` (at once, or `pace_per_s` a second) and wait for every outcome."""
    client = relay.client()
    wanted = {f"{e.tenant}:{e.id}" for e in events}
    last = cast(StreamEntries, client.xrevrange(OUTCOMES_STREAM, count=1))
    after = last[0][0].decode() if last else "0-0"
    already = _length(client)
    calls_before = sim_calls(sim.state())
    cpu_before = relay.cpu_seconds()
    retries_before = relay.retries_logged()
    published: dict[str, float] = {}
    started = time.time()
    if pace_per_s is None:
        for first in range(0, len(events), PUBLISH_BATCH):
            batch = events[first : first + PUBLISH_BATCH]
            pipe = client.pipeline(transaction=False)
            for event in batch:
                pipe.xadd(EVENTS_STREAM, {"event": envelope_json(event.envelope)})
            at = time.time()
            pipe.execute()
            published.update({f"{e.tenant}:{e.id}": at for e in batch})
    marks: dict[float, tuple[float, int]] = {}
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    next_publish = 0
    while True:
        if pace_per_s is not None:
            while next_publish < len(events) and time.time() >= started + next_publish / pace_per_s:
                event = events[next_publish]
                published[f"{event.tenant}:{event.id}"] = time.time()
                client.xadd(EVENTS_STREAM, {"event": envelope_json(event.envelope)})
                next_publish += 1
        done = _length(client) - already
        for mark in (STEADY_FROM, STEADY_TO):
            if mark not in marks and done >= mark * len(events):
                before = time.time()
                total = sum(sim_calls(sim.state()).values())
                marks[mark] = ((before + time.time()) / 2, total)
        if done >= len(events):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(events) - done} events without outcome\n{relay.log_tails()}")
        time.sleep(POLL_S)
    cpu_after = relay.cpu_seconds()
    worker_cpu_s, ingest_cpu_s = (
        after_s - before_s for after_s, before_s in zip(cpu_after, cpu_before, strict=True)
    )
    calls = sim_calls(sim.state()) - calls_before
    client.close()
    outcomes = [o for o in _read_outcomes(relay, after) if f"{o.tenant}:{o.event_id}" in wanted]
    failed = [o for o in outcomes if o.outcome not in EXPECTED_OUTCOMES]
    if failed:
        raise RuntimeError(f"{len(failed)} events not applied, e.g. {failed[0]!r}\n{relay.log_tails()}")
    kind_of = {f"{e.tenant}:{e.id}": e.kind for e in events}
    calls_by_kind: dict[str, list[int]] = {}
    for outcome in outcomes:
        calls_by_kind.setdefault(kind_of[f"{outcome.tenant}:{outcome.event_id}"], []).append(
            len(outcome.calls)
        )
    (t10, c10), (t90, c90) = marks[STEADY_FROM], marks[STEADY_TO]
    finished = max(o.at.timestamp() for o in outcomes)
    return PhaseResult(
        events=len(events),
        elapsed_s=finished - started,
        calls=calls,
        steady_calls_per_s=(c90 - c10) / (t90 - t10) if t90 > t10 else float("nan"),
        calls_by_kind=calls_by_kind,
        latencies_s=[o.at.timestamp() - published[f"{o.tenant}:{o.event_id}"] for o in outcomes],
        cpu_s=worker_cpu_s + ingest_cpu_s,
        cpu_ingest_s=ingest_cpu_s,
        outcomes=Counter(o.outcome for o in outcomes),
        retries=relay.retries_logged() - retries_before,
        tenant_calls_per_s=tenant_rates(outcomes),
    )
