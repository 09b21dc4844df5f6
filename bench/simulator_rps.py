"""Requests per second the Engage simulator serves on one core, against a bare aiohttp baseline.

Run: `python -m bench.simulator_rps [--duration 5] [--runs 3] [--concurrency 64]`.
Each server (the simulator, and a bare aiohttp app answering a constant JSON) runs as its own
process pinned with `taskset` to CPU 0 when available; the load generator is a separate process
(aiohttp client, keep-alive, N concurrent workers) pinned to CPU 1. Every scenario runs for a
bounded duration against 127.0.0.1 only; the script prints the median of the runs and the ratio to
the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.processes import Proc, entry_point, free_port, port_open, wait_until

BENCH_KEY = "bench-key"
UNLIMITED_RATE = 1_000_000_000
DEFAULT_DURATION_S = 5.0
DEFAULT_RUNS = 3
DEFAULT_CONCURRENCY = 64
SERVER_CPU = "0"
CLIENT_CPU = "1"
RECEIPT_TEMPLATE = {
    "contact": {"matchKey": "bench@example.com", "matchKeyType": "email"},
    "uniqueReceiptId": "__ID__",
    "createdDate": "2026-11-24T10:15:00+01:00",
    "storeExternalId": "S1",
    "currency": "SEK",
    "totalGrossPrice": 100.0,
    "paymentMethods": [{"type": "card", "value": 100.0}],
    "items": [
        {
            "type": "PURCHASE",
            "quantity": 1,
            "grossPaidPrice": 100.0,
            "taxAmount": 20.0,
            "taxPercent": 25.0,
            "sku": "S",
            "articleNumber": "A",
            "articleName": "N",
        }
    ],
}


def pinned(cpu: str, args: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", cpu, *args] if taskset else args


def run_baseline_server(port: int) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/ping", ok)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def drive(
    url: str, method: str, body: str | None, duration_s: float, concurrency: int
) -> dict[str, Any]:
    import aiohttp

    headers = {"apikey": BENCH_KEY, "User-Agent": "bench/1", "Content-Type": "application/json"}
    counts: dict[int, int] = {}
    deadline = time.perf_counter() + duration_s
    serial = [0]

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            serial[0] += 1
            data = body.replace("__ID__", f"r{serial[0]}") if body else None
            async with session.request(method, url, data=data, headers=headers if body else None) as resp:
                await resp.read()
                counts[resp.status] = counts.get(resp.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"apikey": BENCH_KEY}) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {"rps": sum(counts.values()) / elapsed, "statuses": counts}


def load(url: str, method: str, body: str | None, duration_s: float, concurrency: int) -> dict[str, Any]:
    """Run the load generator as its own (pinned) process; returns its JSON result."""
    args = [sys.executable, "-m", "bench.simulator_rps", "--drive", url, "--method", method]
    args += ["--duration", str(duration_s), "--concurrency", str(concurrency)]
    if body is not None:
        args += ["--body", body]
    out = subprocess.run(
        pinned(CLIENT_CPU, args), capture_output=True, text=True, check=True, timeout=duration_s + 60
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def start(args: list[str], port: int, log: Path) -> Proc:
    proc = Proc(pinned(SERVER_CPU, args), log)
    wait_until(lambda: port_open(port), timeout_s=20, what=f"server on {port}")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="GET", help=argparse.SUPPRESS)
    parser.add_argument("--body", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.baseline_server:
        run_baseline_server(opts.baseline_server)
        return
    if opts.drive:
        print(
            json.dumps(
                asyncio.run(drive(opts.drive, opts.method, opts.body, opts.duration, opts.concurrency))
            )
        )
        return
    bench(opts.duration, opts.runs, opts.concurrency)


def bench(duration_s: float, runs: int, concurrency: int) -> None:
    import requests

    logs = Path(".var/bench")
    logs.mkdir(parents=True, exist_ok=True)
    base_port, sim_port = free_port(), free_port()
    base = start(
        [sys.executable, "-m", "bench.simulator_rps", "--baseline-server", str(base_port)],
        base_port,
        logs / "baseline.log",
    )
    sim_args = entry_point(
        "simulator", "--port", str(sim_port), "--api-key", BENCH_KEY, "--rate-limit", str(UNLIMITED_RATE)
    )
    sim = start(sim_args, sim_port, logs / "simulator.log")
    sim_url = f"http://127.0.0.1:{sim_port}"
    try:
        created = requests.post(
            f"{sim_url}/api/v3/contacts",
            json={"email": "bench@example.com"},
            headers={"apikey": BENCH_KEY},
            timeout=5,
        )
        created.raise_for_status()
        scenarios = {
            "baseline GET /ping": (f"http://127.0.0.1:{base_port}/ping", "GET", None),
            "lookup hit GET /api/v3/contacts/id": (
                f"{sim_url}/api/v3/contacts/id?email=bench%40example.com",
                "GET",
                None,
            ),
            "receipt POST /api/v3/receipts": (
                f"{sim_url}/api/v3/receipts",
                "POST",
                json.dumps(RECEIPT_TEMPLATE),
            ),
        }
        results: dict[str, list[float]] = {name: [] for name in scenarios}
        for run in range(runs):
            for name, (url, method, body) in scenarios.items():
                outcome = load(url, method, body, duration_s, concurrency)
                results[name].append(outcome["rps"])
                print(
                    f"run {run + 1} {name}: {outcome['rps']:.0f} req/s statuses={outcome['statuses']}",
                    flush=True,
                )
    finally:
        sim.stop()
        base.stop()
    baseline = statistics.median(results["baseline GET /ping"])
    print(
        f"\nmedians of {runs} runs, {duration_s:g} s each, concurrency {concurrency}, "
        f"server pinned to CPU {SERVER_CPU}:"
    )
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<40} {median:>8.0f} req/s  ratio to baseline {median / baseline:.2f}")


if __name__ == "__main__":
    main()
