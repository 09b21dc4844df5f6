"""The pipeline bench's scenarios: the relay (one or two tenants) and the guide's synchronous baseline.

Each scenario starts its own Redis, simulator and relay, so no state, cooldown or queue leaks between
scenarios; the simulator answers with a lognormal latency (median LATENCY_MS["p50"]).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import _procs
from bench._measure import PhaseResult, run_relay_phase, sim_calls
from bench._workload import (
    BURST_AT,
    DEFAULT_MIX,
    PACED_AT,
    BenchEvent,
    known_emails,
    measured,
    warmup,
)
from tests.support.simulator import SimAdmin

LATENCY_MS = {"p50": 50, "p99": 100}
ENGAGE_RATE_LIMIT_PER_S = 200  # Engage's own 429 threshold
MAX_TENANTS = 26
TENANTS = tuple(f"bench-{chr(ord('a') + n)}" for n in range(MAX_TENANTS))
API_KEYS = tuple(f"bench-key-{chr(ord('a') + n)}" for n in range(MAX_TENANTS))
POLICY: dict[str, Any] = {"source": "ECOM", "default_store": "online-se", "group_currency": "SEK"}
BASELINE_TIMEOUT_S = 600.0
IDLE_WINDOW_S = 2.0


@dataclass(frozen=True)
class Workload:
    events: int
    known: int
    paced_events: int
    pace_per_s: float
    seed: int
    mix: str = DEFAULT_MIX


@dataclass(frozen=True)
class RelayScenario:
    name: str
    concurrency: int
    budget_per_s: float
    sim_rate_limit: int = ENGAGE_RATE_LIMIT_PER_S
    tenants: int = 1
    paced: bool = True


@dataclass
class ScenarioResult:
    burst: PhaseResult
    paced: PhaseResult | None
    budget_per_s: float  # all tenants together
    idle_cpu_per_s: float = 0.0  # the relay's CPU seconds per second with nothing to do


def _configure(sim: SimAdmin, run: int) -> None:
    sim.set_faults(latency_ms=LATENCY_MS, seed=run)


def _interleave(lists: list[list[BenchEvent]]) -> list[BenchEvent]:
    return [event for group in zip(*lists, strict=True) for event in group]


def run_relay(scenario: RelayScenario, workload: Workload, run: int, workdir: Path) -> ScenarioResult:
    names, keys = TENANTS[: scenario.tenants], API_KEYS[: scenario.tenants]
    namespace = f"r{run}-" + re.sub(r"[^a-z0-9]+", "-", scenario.name.lower()).strip("-")
    tenants = {
        name: {
            "base_url": "",
            "api_key_env": f"BENCH_KEY_{n}",
            "rate_budget_per_s": scenario.budget_per_s,
            "policy": POLICY,
        }
        for n, name in enumerate(names)
    }
    env = {f"BENCH_KEY_{n}": key for n, key in enumerate(keys)}
    per_tenant = workload.events // scenario.tenants
    with (
        _procs.redis_server(workdir / "redis") as redis_url,
        _procs.simulator(workdir / "sim", keys, scenario.sim_rate_limit) as sim,
    ):
        _configure(sim, run)
        for spec in tenants.values():
            spec["base_url"] = sim.base_url
        with _procs.relay(workdir / "relay", redis_url, tenants, env, scenario.concurrency) as relay:
            customers = {t: known_emails(f"{namespace}-{t}", workload.known) for t in names}
            run_relay_phase(relay, sim, _interleave([warmup(namespace, t, customers[t]) for t in names]))
            idle_before = sum(relay.cpu_seconds())
            time.sleep(IDLE_WINDOW_S)
            idle_cpu_per_s = (sum(relay.cpu_seconds()) - idle_before) / IDLE_WINDOW_S
            burst_events = _interleave(
                [
                    measured(
                        f"{namespace}-{t}", t, per_tenant, customers[t], workload.seed, BURST_AT, workload.mix
                    )
                    for t in names
                ]
            )
            burst = run_relay_phase(relay, sim, burst_events)
            paced = None
            if scenario.paced:
                paced_events = measured(
                    f"{namespace}-paced",
                    names[0],
                    workload.paced_events,
                    customers[names[0]],
                    run,
                    PACED_AT,
                    workload.mix,
                )
                paced = run_relay_phase(relay, sim, paced_events, workload.pace_per_s)
    return ScenarioResult(burst, paced, scenario.budget_per_s * scenario.tenants, idle_cpu_per_s)


def _baseline_child(
    sim: SimAdmin, events: list[BenchEvent], workdir: Path, pace_per_s: float | None
) -> PhaseResult:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"workload-{'paced' if pace_per_s else 'burst'}.json"
    rows = [{"kind": e.kind, "envelope": e.envelope} for e in events]
    path.write_text(json.dumps({"policy": POLICY, "events": rows}), encoding="utf-8")
    args = [sys.executable, "-m", "bench._baseline", str(path), sim.base_url]
    if pace_per_s is not None:
        args += ["--pace", str(pace_per_s)]
    before = sim_calls(sim.state())
    done = subprocess.run(
        _procs.pinned(_procs.RELAY_CPU, args),
        capture_output=True,
        text=True,
        check=True,
        timeout=BASELINE_TIMEOUT_S,
        env={**os.environ, "BENCH_ENGAGE_KEY": API_KEYS[0]},
    )
    calls = sim_calls(sim.state()) - before
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    by_kind: dict[str, list[int]] = {}
    for row in out["rows"]:
        by_kind.setdefault(row["kind"], []).append(len(row["calls"]))
    return PhaseResult(
        events=len(events),
        elapsed_s=out["elapsed_s"],
        calls=calls,
        steady_calls_per_s=sum(calls.values()) / out["elapsed_s"],
        calls_by_kind=by_kind,
        latencies_s=[row["latency_s"] for row in out["rows"]],
        cpu_s=out["cpu_s"],
        outcomes=Counter({"applied": len(out["rows"])}),
    )


def run_baseline(workload: Workload, baseline_events: int, run: int, workdir: Path) -> ScenarioResult:
    namespace = f"r{run}-baseline"
    tenant = TENANTS[0]
    customers = known_emails(namespace, workload.known)
    with _procs.simulator(workdir / "sim", API_KEYS[:1], ENGAGE_RATE_LIMIT_PER_S) as sim:
        # Known customers exist in Engage already (the baseline has no cache to warm): seeded, not called.
        sim.seed({"contacts": [{"email": address} for address in customers]})
        _configure(sim, run)
        events = measured(
            namespace, tenant, baseline_events, customers, workload.seed, BURST_AT, workload.mix
        )
        burst = _baseline_child(sim, events, workdir, None)
        paced_events = measured(
            f"{namespace}-paced", tenant, workload.paced_events, customers, run, PACED_AT, workload.mix
        )
        paced = _baseline_child(sim, paced_events, workdir, workload.pace_per_s)
    return ScenarioResult(burst, paced, 0.0)


def scratch_dir(prefix: str = "pipeline-") -> Path:
    Path(".var/bench").mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=".var/bench"))
