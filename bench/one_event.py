"""What one event costs the relay in one thread without Celery, beside the guide's loop in the same thread.

Run: `.venv/bin/python -m bench.one_event [--events 400] [--runs 3] [--steps] [--profile]`.

A fresh Redis and the simulator (no latency, Engage's 200/s limit) run pinned to CPU 0; this process, pinned
to CPU 1, is the relay's worker without Celery: the worker's own runtime (`build_runtime`, shipped
`Settings`, one tenant at Engage's 200/s budget), each event admitted as ingest does (`relay.admit.admit`)
and then run as its task would run it (`relay.run.run_job` with the job the schedule holds), one at a time.
The CPU time of this thread (`time.thread_time`, so waits on the rate limiter or on Engage do not count) is
taken around the run only; the admission is printed apart. Logs are formatted as a worker's (JSON at INFO)
and thrown away.

The baseline, in the same thread and the same run: the guide's loop (`bench._baseline.GuideLoop`, plain
`requests`, no cache, no limiter) on events of the same kinds.

The events go 50 a second (`PACE_PER_S`), so a new customer's three calls stay within the budget and
no event is parked by the limiter (an event that is parked anyway fails the run).
Cases: a known member's receipt (the relay remembers the contactId, so one call; the loop looks the
member up each time, two calls) and a new customer's receipt (both look up, create and post the receipt:
three calls). The calls per event are printed beside each figure.

`--steps`: one more pass of each relay case with the CPU of its steps taken apart (`bench/_steps.py`: the
thread's clock around the Engage call, the limiter, the last write, the start script...).

`--profile`: a cProfile of the runs (not the admissions) of one more pass of the relay's known receipts,
in CPU time, the 25 functions with the most time of their own: where the relay's share of an event goes.

Printed: per run the CPU microseconds per event of each case and side, then the medians and the relay's
ratio to the loop. What this leaves out, `bench.pipeline` measures: Celery's handling of each message,
ingest and the mover, and many threads sharing one core.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from pydantic import SecretStr

from bench._baseline import GuideLoop
from bench._procs import RELAY_CPU, redis_server, simulator
from bench._steps import timed_steps
from bench._workload import email, order
from mappers.policy import TenantPolicy
from relay import runtime as runtime_slot
from relay.admit import Arrival, admit
from relay.handlers import PURCHASE
from relay.retry import RETRY_LADDER_S
from relay.run import run_job
from relay.runtime import Runtime
from relay.tenants import Tenant, TenantRegistry
from schemas import parse_event
from workers.logs import configure_logging
from workers.runtime_factory import build_runtime
from workers.settings import Settings

BENCH_KEY = "bench-one-key"
TENANT = "bench-one"
ENGAGE_LIMIT_PER_S = 200  # Engage's own limit, and the tenant's budget: the limiter runs, rarely waits
PACE_PER_S = 50  # a new customer's three calls: 150 calls/s, within the 200/s budget
DEFAULT_EVENTS = 400
DEFAULT_RUNS = 3
WARM_UP = 20
PROFILE_ROWS = 25
AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

Envelope = dict[str, Any]


def receipts(namespace: str, kind: str, count: int, *, member: str | None = None) -> list[Envelope]:
    """`count` receipts, each of its own new customer, or all of `member`."""
    return [
        order(
            f"evt-{namespace}-{kind}-{n}",
            TENANT,
            member or email(namespace, kind, n),
            f"{namespace}-{kind}-{n}",
            AT + timedelta(seconds=n),
            mix="receipts",
        )
        for n in range(count)
    ]


class RelayInOneThread:
    """The worker's runtime; each event admitted, then run from the schedule as its task would."""

    def __init__(self, rt: Runtime, profiler: cProfile.Profile | None = None) -> None:
        self.rt = rt
        self.admit_s = 0.0
        self.calls = 0
        self.profiler = profiler

    def admit(self, envelope: Envelope) -> None:
        """What ingest does for the event (its CPU kept in `admit_s`, apart from the run's)."""
        started = time.thread_time()
        admit(self.rt, [Arrival(parse_event(envelope), envelope)])
        self.admit_s += time.thread_time() - started

    def run_admitted(self, envelope: Envelope) -> None:
        """What the event's task does: its job from the schedule, run."""
        job = self.rt.schedule.get(TENANT, str(envelope["id"]))
        if job is None:
            raise RuntimeError(f"{envelope['id']} was not admitted")
        if self.profiler is not None:
            self.profiler.enable()
        result = run_job(job, PURCHASE, message_id=f"bench-{envelope['id']}")
        if self.profiler is not None:
            self.profiler.disable()
        if result.get("outcome") != "applied":
            raise RuntimeError(f"{envelope['id']}: {result}")
        self.calls += len(result.get("calls", []))

    def run(self, envelope: Envelope) -> None:
        self.admit(envelope)
        self.run_admitted(envelope)


def cpu_us_per_event(
    apply: Callable[[Envelope], object],
    events: list[Envelope],
    *,
    prepare: Callable[[Envelope], object] = lambda _: None,
    warmed: Callable[[], None] = lambda: None,
) -> float:
    """CPU microseconds of this thread per event in `apply` (the warm-up events first, not counted; what
    `prepare` does before each, the relay's admission, not timed), the events `PACE_PER_S` a second: below
    the budget, so the limiter lets every call through (the sleeps are no CPU time)."""
    for envelope in events[:WARM_UP]:
        prepare(envelope)
        apply(envelope)
    warmed()
    measured = events[WARM_UP:]
    cpu = 0.0
    due = time.monotonic()
    for envelope in measured:
        due += 1 / PACE_PER_S
        prepare(envelope)
        started = time.thread_time()
        apply(envelope)
        cpu += time.thread_time() - started
        time.sleep(max(0.0, due - time.monotonic()))
    return cpu * 1e6 / len(measured)


@contextlib.contextmanager
def logs_thrown_away() -> Iterator[None]:
    """The worker's log lines are built and written, to nowhere (stderr is looked up per line)."""
    with Path(os.devnull).open("w", encoding="utf-8") as sink, contextlib.redirect_stderr(sink):
        yield


def one_run(run: int, rt: Runtime, base_url: str, events: int, tenant: Tenant) -> dict[str, float]:
    relay = RelayInOneThread(rt)
    loop = GuideLoop(base_url, BENCH_KEY, tenant.policy)
    member = email(f"r{run}", "member", 0)
    relay.run(receipts(f"r{run}", "first", 1, member=member)[0])  # the relay now knows the member
    figures: dict[str, float] = {}
    with logs_thrown_away():
        relay.admit_s, relay.calls = 0.0, 0
        known = receipts(f"r{run}", "known", events + WARM_UP, member=member)
        figures["relay known receipt"] = cpu_us_per_event(relay.run_admitted, known, prepare=relay.admit)
        figures["relay known calls"] = relay.calls / len(known)
        figures["relay admit (apart)"] = relay.admit_s * 1e6 / len(known)
        loop_calls = 0

        def loop_apply(envelope: Envelope) -> None:
            nonlocal loop_calls
            loop_calls += len(loop.apply(envelope))

        known_loop = receipts(f"r{run}", "known-loop", events + WARM_UP, member=member)
        figures["loop known receipt"] = cpu_us_per_event(loop_apply, known_loop)
        figures["loop known calls"] = loop_calls / len(known_loop)
        relay.calls, loop_calls = 0, 0
        new = receipts(f"r{run}", "new", events + WARM_UP)
        figures["relay new customer"] = cpu_us_per_event(relay.run_admitted, new, prepare=relay.admit)
        figures["relay new calls"] = relay.calls / len(new)
        new_loop = receipts(f"r{run}", "new-loop", events + WARM_UP)
        figures["loop new customer"] = cpu_us_per_event(loop_apply, new_loop)
        figures["loop new calls"] = loop_calls / len(new_loop)
    loop.session.close()
    return figures


def steps(rt: Runtime, events: int) -> str:
    """One more pass of each relay case, paced as the runs, with the CPU of its steps taken apart."""
    out = []
    member = email("steps", "member", 0)
    RelayInOneThread(rt).run(receipts("steps", "first", 1, member=member)[0])
    cases = (
        ("known receipt", receipts("steps", "known", events + WARM_UP, member=member)),
        ("new customer", receipts("steps", "new", events + WARM_UP)),
    )
    with logs_thrown_away(), timed_steps() as times:
        for case, envelopes in cases:
            relay = RelayInOneThread(rt)
            run_us = cpu_us_per_event(relay.run_admitted, envelopes, prepare=relay.admit, warmed=times.clear)
            out.append(f"{case}: {run_us:.0f} CPU us per event in its run (admission apart), of which:")
            out.extend(times.lines(events))
    return "\n".join(out)


def profile(rt: Runtime, events: int) -> str:
    member = email("profile", "member", 0)
    RelayInOneThread(rt).run(receipts("profile", "first", 1, member=member)[0])
    profiler = cProfile.Profile(time.thread_time)
    relay = RelayInOneThread(rt, profiler)
    with logs_thrown_away():
        for envelope in receipts("profile", "known", events, member=member):
            relay.run(envelope)
            time.sleep(1 / PACE_PER_S)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(PROFILE_ROWS)
    return out.getvalue()


SIDES = (("known receipt", "known calls"), ("new customer", "new calls"))


def report(runs: list[dict[str, float]]) -> None:
    medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    print(f"\nmedians of {len(runs)} runs (CPU microseconds per event, this thread on CPU {RELAY_CPU}):")
    for case, calls in SIDES:
        relay, loop = medians[f"relay {case}"], medians[f"loop {case}"]
        print(
            f"  {case:14} relay {relay:7.0f} ({medians[f'relay {calls}']:.2f} calls)"
            f"   guide loop {loop:7.0f} ({medians[f'loop {calls}']:.2f} calls)"
            f"   relay / loop {relay / loop:.2f}x"
        )
    print(f"  admission as ingest does it, apart: {medians['relay admit (apart)']:.0f} per event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="per case and side, each run")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument(
        "--profile", action="store_true", help="then print a cProfile of the relay's known receipts"
    )
    parser.add_argument(
        "--steps", action="store_true", help="then print the CPU of each relay case's steps (bench/_steps.py)"
    )
    opts = parser.parse_args()
    configure_logging(logging.INFO, secrets=[BENCH_KEY])  # as a worker logs: JSON lines at INFO
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(RELAY_CPU)})
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-one-") as tmp:
        workdir = Path(tmp)
        with (
            redis_server(workdir / "redis") as redis_url,
            simulator(workdir / "sim", (BENCH_KEY,), ENGAGE_LIMIT_PER_S) as admin,
        ):
            tenant = Tenant(
                name=TENANT,
                base_url=admin.base_url,
                api_key=SecretStr(BENCH_KEY),
                rate_budget_per_s=ENGAGE_LIMIT_PER_S,
                policy=TenantPolicy(source="POS", default_store="store-001"),
            )
            client = redis.Redis.from_url(redis_url)
            rt = build_runtime(Settings(), TenantRegistry([tenant]), client, RETRY_LADDER_S)
            runtime_slot.install(rt)
            try:
                for run in range(opts.runs):
                    figures = one_run(run, rt, admin.base_url, opts.events, tenant)
                    runs.append(figures)
                    shown = ", ".join(
                        f"{name} {value:.0f}" for name, value in figures.items() if "calls" not in name
                    )
                    print(
                        f"run {run + 1} ({opts.events} events a case, CPU us per event): {shown}", flush=True
                    )
                report(runs)
                if opts.steps:
                    print(f"\nthe steps of {opts.events} events a case, paced as the runs (bench/_steps.py):")
                    print(steps(rt, opts.events))
                if opts.profile:
                    print(f"\ncProfile of {opts.events} known receipts through the relay (CPU time):")
                    print(profile(rt, opts.events))
            finally:
                rt.session.close()
                client.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
