"""The checkout read path's latency and throughput: from the cache, from the simulator, and direct.

Run: `python -m bench.read_path [--reads 400] [--concurrency 8] [--contacts 50] [--runs 3]`.

What runs: a private Redis and the simulator (pinned to CPU 0 when `taskset` exists), the simulator
answering every Engage call with a lognormal latency of median 50 ms and 99th percentile 100 ms, and
`engage-relay api` (one uvicorn process, pinned to CPU 1) for one tenant on the simulator. The load
generator is this process: `--concurrency` threads, each with its own keep-alive session, `--reads` timed
reads per scenario and run, over `--contacts` contacts made in the simulator beforehand:

- `direct`: `GET /api/v3/contactoverview?contactId=` on the simulator itself (the floor: what a shop
  calling Engage directly would see at 50 ms);
- `api miss`: `GET /v1/contacts/{id}/overview` through the API, each read's cache entry invalidated just
  before it (not timed), so every read asks the simulator and stores its answer;
- `api hit`: the same reads with every contact cached (fresh).

Each row: p50 and p99 latency in ms, reads/s (reads over the scenario's wall time), and the `X-Cache`
answers seen (a miss that ran past the 0.5 s deadline would show as STALE). The tenant's Engage budget is
raised to the simulator's 200/s and the per-token request budget out of the way, so that what is
measured is the read path, not the limiters (with the default 40/s a miss scenario at this concurrency
is capped by the budget, which is the point of the budget).
Only 127.0.0.1; bounded loops; every process is stopped at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import redis
import requests

from api.tokens import ApiTokens, RedisTokenStore
from relay.readcache import RedisReadCache
from tests.support.processes import Proc, entry_point, free_port, start_redis, wait_until

BENCH_KEY = "bench-key"
TENANT = "default"
LATENCY_MS = {"p50": 50.0, "p99": 100.0}
ENGAGE_BUDGET_PER_S = "200"
TOKEN_BUDGET_PER_S = "1000000"
SERVER_CPU = "0"
API_CPU = "1"


PIN = True  # --no-pin: on a machine busy with other work a pinned process waits for its one core


def pinned(cpu: str, args: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", cpu, *args] if taskset and PIN else args


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Scenario:
    def __init__(self, name: str, url_for: Callable[[str], str], headers: dict[str, str]) -> None:
        self.name = name
        self.url_for = url_for
        self.headers = headers


def run_scenario(
    scenario: Scenario,
    contacts: list[str],
    reads: int,
    concurrency: int,
    before: Callable[[str], None] | None = None,
) -> tuple[list[float], float, Counter[str]]:
    latencies: list[float] = []
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    counter = iter(range(reads))

    def worker() -> None:
        session = requests.Session()
        session.headers.update(scenario.headers)
        try:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                contact = contacts[n % len(contacts)]
                if before is not None:
                    before(contact)
                started = time.perf_counter()
                answer = session.get(scenario.url_for(contact), timeout=5)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    seen[answer.headers.get("X-Cache", str(answer.status_code))] += 1
        finally:
            session.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true", help="Let the OS place the servers (busy machines).")
    args = parser.parse_args()
    global PIN  # noqa: PLW0603 - one switch for the run, set before any process starts
    PIN = not args.no_pin

    workdir = Path(tempfile.mkdtemp(prefix="bench-read-path-"))
    procs: list[Proc] = []
    try:
        redis_proc, redis_url = start_redis(workdir / "redis")
        procs.append(redis_proc)
        sim_port, api_port = free_port(), free_port()
        sim_url, api_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}"
        sim_args = ["simulator", "--port", str(sim_port), "--api-key", BENCH_KEY, "--rate-limit", "100000"]
        procs.append(Proc(pinned(SERVER_CPU, entry_point(*sim_args)), workdir / "simulator.log"))
        wait_until(lambda: _ok(f"{sim_url}/_sim/health"), what="simulator")
        env = {
            "REDIS_URL": redis_url,
            "ENGAGE_BASE_URL": sim_url,
            "ENGAGE_API_KEY": BENCH_KEY,
            "ENGAGE_RATE_BUDGET_PER_S": ENGAGE_BUDGET_PER_S,
            "ENGAGE_RELAY_API_REQUESTS_PER_S": TOKEN_BUDGET_PER_S,
        }
        api_args = entry_point("api", "--port", str(api_port))
        procs.append(Proc(pinned(API_CPU, api_args), workdir / "api.log", env=env))
        wait_until(lambda: _ok(f"{api_url}/healthz"), what="engage-relay api")

        engage = requests.Session()
        engage.headers["apikey"] = BENCH_KEY
        contacts = [
            engage.post(
                f"{sim_url}/api/v3/contacts", json={"email": f"bench-{n}@example.com"}, timeout=5
            ).json()["id"]
            for n in range(args.contacts)
        ]
        requests.put(f"{sim_url}/_sim/faults", json={"latency_ms": LATENCY_MS}, timeout=5).raise_for_status()
        client = redis.Redis.from_url(redis_url)
        token = ApiTokens(RedisTokenStore(client)).create_for_tenant("bench", TENANT).raw
        cache = RedisReadCache(client)

        def invalidate(contact: str) -> None:
            cache.invalidate(TENANT, contact, ["overview"])

        bearer = {"Authorization": f"Bearer {token}"}
        direct = Scenario(
            "direct", lambda c: f"{sim_url}/api/v3/contactoverview?contactId={c}", {"apikey": BENCH_KEY}
        )
        through = Scenario("api", lambda c: f"{api_url}/v1/contacts/{c}/overview", bearer)

        print(
            f"read path: {args.reads} reads x {args.runs} runs, concurrency {args.concurrency}, "
            f"{args.contacts} contacts; simulator latency p50 {LATENCY_MS['p50']:.0f} ms, "
            f"p99 {LATENCY_MS['p99']:.0f} ms"
        )
        print(f"{'scenario':<10} {'run':>3} {'p50 ms':>8} {'p99 ms':>8} {'reads/s':>9}  answers")
        rows: dict[str, list[tuple[float, float, float]]] = {"direct": [], "api miss": [], "api hit": []}
        for run in range(1, args.runs + 1):
            for name, kept in rows.items():
                scenario = direct if name == "direct" else through
                before = invalidate if name == "api miss" else None
                if name == "api hit":
                    run_scenario(through, contacts, len(contacts), args.concurrency)  # warm every contact
                latencies, wall_s, seen = run_scenario(
                    scenario, contacts, args.reads, args.concurrency, before
                )
                p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
                rate = len(latencies) / wall_s
                kept.append((p50, p99, rate))
                answers = ", ".join(f"{k} {v}" for k, v in sorted(seen.items()))
                print(f"{name:<10} {run:>3} {p50:>8.1f} {p99:>8.1f} {rate:>9.0f}  {answers}")
        print("medians:")
        for name, values in rows.items():
            p50 = statistics.median(v[0] for v in values)
            p99 = statistics.median(v[1] for v in values)
            rate = statistics.median(v[2] for v in values)
            print(f"{name:<10}     {p50:>8.1f} {p99:>8.1f} {rate:>9.0f}")
        client.close()
        engage.close()
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
