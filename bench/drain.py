"""A drain after an outage: thousands of held events go to Engage while live events keep flowing.

Run: `.venv/bin/python -m bench.drain [--held 5000] [--live-per-s 5] [--budget 100] [--runs 1]`.

Each run starts its own Redis and simulator (pinned to CPU 0; latency p50 50 ms, p99 100 ms) and the relay
(`engage-relay ingest` and one `engage-relay worker --concurrency 32`, pinned to CPU 1), one tenant with
`--budget` calls/s. Every event is a POS receipt for a member Engage knows by contactId, so each costs one
call and the figures are about the lanes, not about contact look-ups. Two phases:

1. live only (after a warm-up of `WARMUP_EVENTS` receipts, not measured): `--live-per-s` receipts a
   second for `--live-s` seconds; each one's latency (publish -> outcome) is the reference;
2. the drain: Engage goes down (the simulator's outage: 503 at once), a few receipts trip the breaker,
   `--held` receipts are published and held; Engage comes back, and once the probe has closed the breaker
   the same live load runs for as long as the hold drains (at least `--live-s`). The drain rate is the held
   events over the time from the first to the last of their outcomes; the live latencies are those of the
   live events published while the drain ran.

The breaker's open time is 5 s here (`ENGAGE_RELAY_BREAKER_OPEN_S`, shipped 30 s), so the probe comes
soon after Engage is back; nothing else differs from the shipped settings. While live events want the
budget they keep half of it (the backlog lane gets at most the other half), so the drain is expected near
`--budget / 2` events/s and the live latencies close to the reference.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import redis

from bench import _procs
from bench._scenarios import scratch_dir
from relay.breaker import RedisCircuitBreaker
from relay.keys import OUTCOMES_STREAM
from relay.outcomes import Outcome
from schemas.publish import EVENTS_STREAM, envelope_json
from tests.support.simulator import SimAdmin
from workers.demo.data import event

TENANT = "drain-pos"
API_KEY = "drain-bench-key"
MEMBERS = 500
LATENCY_MS = {"p50": 50, "p99": 100}
DEFAULT_HELD = 5000
DEFAULT_LIVE_PER_S = 5.0
DEFAULT_LIVE_S = 30.0
DEFAULT_BUDGET_PER_S = 100.0
DEFAULT_RUNS = 1
CONCURRENCY = 32
BREAKER_OPEN_S = 5
TRIP_EVENTS = 8
WARMUP_EVENTS = 50
PUBLISH_BATCH = 500
POLL_S = 0.05
PHASE_TIMEOUT_S = 600.0
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


def member_id(n: int) -> str:
    return f"5d2e1f0a-9b8c-4d7e-a6f5-{n:012d}"


def receipt(event_id: str, n: int) -> dict[str, Any]:
    """A card-paid POS receipt of member `n % MEMBERS`, named by contactId (one Engage call)."""
    return event(
        "receipt.completed",
        event_id,
        TENANT,
        customer={"contact_id": member_id(n % MEMBERS)},
        receipt_id=f"{event_id}-r",
        payments=[{"type": "card", "amount": "943.20"}],
        used_vouchers=[],
    )


@dataclass
class Outcomes:
    """The outcomes stream read incrementally: event id -> outcome."""

    client: redis.Redis
    cursor: str = "0-0"
    seen: dict[str, Outcome] = field(default_factory=dict)

    def poll(self) -> None:
        while True:
            entries = cast(
                StreamEntries, self.client.xrange(OUTCOMES_STREAM, min=f"({self.cursor}", count=2000)
            )
            if not entries:
                return
            for entry_id, fields in entries:
                outcome = Outcome.model_validate_json(fields[b"outcome"])
                self.seen.setdefault(outcome.event_id, outcome)
                self.cursor = entry_id.decode()

    def count(self, ids: set[str]) -> int:
        return sum(1 for i in ids if i in self.seen)

    def has_all(self, ids: set[str]) -> bool:
        self.poll()
        return self.count(ids) == len(ids)


def publish(client: redis.Redis, envelopes: list[dict[str, Any]]) -> None:
    for first in range(0, len(envelopes), PUBLISH_BATCH):
        pipe = client.pipeline(transaction=False)
        for envelope in envelopes[first : first + PUBLISH_BATCH]:
            pipe.xadd(EVENTS_STREAM, {"event": envelope_json(envelope)})
        pipe.execute()


def wait(predicate: Callable[[], bool], what: str, timeout_s: float = PHASE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


@dataclass
class LiveLoad:
    """Live receipts at a fixed pace: publish what is due, remember when each was published."""

    client: redis.Redis
    prefix: str
    per_s: float
    started: float = 0.0
    published: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self.started = time.time()

    def tick(self) -> None:
        while time.time() >= self.started + len(self.published) / self.per_s:
            event_id = f"{self.prefix}-{len(self.published)}"
            self.published[event_id] = time.time()
            self.client.xadd(EVENTS_STREAM, {"event": envelope_json(receipt(event_id, len(self.published)))})

    def latencies(self, outcomes: Outcomes, published_before: float | None = None) -> list[float]:
        return [
            outcomes.seen[i].at.timestamp() - at
            for i, at in self.published.items()
            if i in outcomes.seen and (published_before is None or at <= published_before)
        ]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class RunResult:
    reference_ms: list[float]
    during_ms: list[float]
    held: int
    drain_s: float
    back_to_first_s: float
    outcomes: dict[str, int]


def live_only(client: redis.Redis, outcomes: Outcomes, run: int, per_s: float, seconds: float) -> list[float]:
    load = LiveLoad(client, f"ref{run}", per_s)
    load.start()
    while time.time() < load.started + seconds:
        load.tick()
        time.sleep(POLL_S)
    ids = set(load.published)
    wait(lambda: outcomes.has_all(ids), "the reference live events")
    return load.latencies(outcomes)


def one_run(run: int, opts: argparse.Namespace, workdir: Path) -> RunResult:
    tenants = {
        TENANT: {
            "base_url": "",
            "api_key_env": "DRAIN_KEY",
            "rate_budget_per_s": opts.budget,
            "policy": {"source": "POS", "default_store": "store-001"},
            "fallback": {"transport": "none"},
        }
    }
    env = {"DRAIN_KEY": API_KEY, "ENGAGE_RELAY_BREAKER_OPEN_S": str(BREAKER_OPEN_S)}
    with (
        _procs.redis_server(workdir / "redis") as redis_url,
        _procs.simulator(workdir / "sim", (API_KEY,), 200) as sim,
    ):
        sim.seed({"contacts": [{"id": member_id(n), "email": f"m{n}@example.no"} for n in range(MEMBERS)]})
        sim.set_faults(latency_ms=LATENCY_MS, seed=run)
        tenants[TENANT]["base_url"] = sim.base_url
        with _procs.relay(workdir / "relay", redis_url, tenants, env, CONCURRENCY) as relay:
            client = relay.client()
            outcomes = Outcomes(redis.Redis.from_url(redis_url))
            try:
                warm = [receipt(f"warm{run}-{n}", n) for n in range(WARMUP_EVENTS)]
                publish(client, warm)
                wait(lambda: outcomes.has_all({e["id"] for e in warm}), "the warm-up")
                reference = live_only(client, outcomes, run, opts.live_per_s, opts.live_s)
                return drain_phase(run, opts, sim, client, outcomes, reference)
            finally:
                client.close()
                outcomes.client.close()


def drain_phase(
    run: int,
    opts: argparse.Namespace,
    sim: SimAdmin,
    client: redis.Redis,
    outcomes: Outcomes,
    reference: list[float],
) -> RunResult:
    breaker = RedisCircuitBreaker(client)
    sim.set_faults(outage=True)
    publish(client, [receipt(f"trip{run}-{n}", n) for n in range(TRIP_EVENTS)])
    wait(lambda: breaker.info(TENANT).state == "open", "the breaker to open", 60)
    held_ids = {f"held{run}-{n}" for n in range(opts.held)}
    publish(client, [receipt(f"held{run}-{n}", n) for n in range(opts.held)])
    wait(lambda: client.xlen(EVENTS_STREAM) == 0, "ingest to admit the held events", 120)
    sim.set_faults(outage=False)
    back = time.time()
    wait(lambda: breaker.info(TENANT).state == "closed", "the probe to close the breaker", 120)
    load = LiveLoad(client, f"live{run}", opts.live_per_s)
    load.start()
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while outcomes.count(held_ids) < len(held_ids) or time.time() < load.started + opts.live_s:
        load.tick()
        outcomes.poll()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(held_ids) - outcomes.count(held_ids)} held events not drained")
        time.sleep(POLL_S)
    held_done = [outcomes.seen[i].at.timestamp() for i in held_ids]
    first, last = min(held_done), max(held_done)
    live_ids = set(load.published)
    wait(lambda: outcomes.has_all(live_ids), "the live events", 120)
    during = load.latencies(outcomes, published_before=last)
    kinds: dict[str, int] = {}
    for i in held_ids | live_ids:
        kinds[outcomes.seen[i].outcome] = kinds.get(outcomes.seen[i].outcome, 0) + 1
    return RunResult(
        reference_ms=[s * 1000 for s in reference],
        during_ms=[s * 1000 for s in during],
        held=len(held_ids),
        drain_s=last - first,
        back_to_first_s=first - back,
        outcomes=kinds,
    )


def print_run(run: int, result: RunResult, opts: argparse.Namespace) -> None:
    rate = result.held / result.drain_s if result.drain_s > 0 else float("nan")
    print(
        f"run {run}: {result.held} held drained in {result.drain_s:.1f} s = {rate:.1f} events/s "
        f"({100 * rate / opts.budget:.0f} % of the {opts.budget:g}/s budget; first drained "
        f"{result.back_to_first_s:.1f} s after Engage was back); live p50/p99 ms: no drain "
        f"{quantile(result.reference_ms, 0.5):.0f}/{quantile(result.reference_ms, 0.99):.0f} "
        f"({len(result.reference_ms)} events), during the drain "
        f"{quantile(result.during_ms, 0.5):.0f}/{quantile(result.during_ms, 0.99):.0f} "
        f"({len(result.during_ms)} events); outcomes {result.outcomes}",
        flush=True,
    )


def bench(opts: argparse.Namespace) -> None:
    results: list[RunResult] = []
    for run in range(1, opts.runs + 1):
        workdir = scratch_dir("drain-")
        try:
            result = one_run(run, opts, workdir)
        finally:
            if not opts.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        print_run(run, result, opts)
        results.append(result)
    rates = [r.held / r.drain_s for r in results if r.drain_s > 0]
    ref = [v for r in results for v in r.reference_ms]
    during = [v for r in results for v in r.during_ms]
    print(
        f"\n{opts.held} held events, live {opts.live_per_s:g}/s, budget {opts.budget:g}/s, simulator latency "
        f"p50 {LATENCY_MS['p50']} ms / p99 {LATENCY_MS['p99']} ms, {opts.runs} run(s)\n"
        f"  drain rate (median): {statistics.median(rates):.1f} events/s\n"
        f"  {'live latency':18} {'p50 ms':>8} {'p99 ms':>8} {'events':>7}\n"
        f"  {'no drain':18} {quantile(ref, 0.5):8.0f} {quantile(ref, 0.99):8.0f} {len(ref):7d}\n"
        f"  {'during the drain':18} {quantile(during, 0.5):8.0f} {quantile(during, 0.99):8.0f} "
        f"{len(during):7d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--held", type=int, default=DEFAULT_HELD, help="events held by the outage")
    parser.add_argument("--live-per-s", type=float, default=DEFAULT_LIVE_PER_S, help="live events per second")
    parser.add_argument("--live-s", type=float, default=DEFAULT_LIVE_S, help="seconds of live load, at least")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_PER_S, help="the tenant's calls/s")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--keep", action="store_true", help="keep each run's logs under .var/bench")
    bench(parser.parse_args())


if __name__ == "__main__":
    main()
