"""What one Redis round trip and one Engage call cost in CPU, through the relay's clients and plain ones.

Run: `.venv/bin/python -m bench.call_cost [--calls 2000] [--runs 3]`.

A fresh Redis and the simulator (no latency, no rate limit) run pinned to CPU 0; this process, pinned to
CPU 1, makes `--calls` operations of each kind in turn, one at a time, and measures the CPU time of its
own thread (`time.thread_time`) per operation:

- Redis: a `GET` over a raw socket (the plain floor: one RESP command written, its reply read), the same
  `GET` through redis-py with hiredis (the client every store uses), and one `EVALSHA` of a small script
  through redis-py's `Script` (how the relay's scripts run: the start script, the limiter, the last write);
- Engage: the contact lookup that hits (`GET /api/v3/contacts/id?email=...`) over `http.client` on one
  keep-alive connection (the plain floor), through a `requests.Session` (`session.get`, as the guide's
  loop does), and through the relay's `EngageClient.lookup_contact` (its headers, short retries, error
  mapping, observer and log line, without the rate limiter, whose script is the `EVALSHA` above).

Printed: per run the microseconds of CPU per operation, then the medians and each one's ratio to its
floor. With the counts per event (`bench.pipeline` prints the calls; tests/integration/test_round_trips.py
keeps the round trips of a known member's receipt at 4), these say what the parts of an event cost before
any of the relay's own logic.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

from bench._procs import RELAY_CPU, redis_server, simulator
from engage.client import EngageClient
from workers.logs import configure_logging

BENCH_KEY = "bench-key"
UNLIMITED_RATE = 1_000_000_000
EMAIL = "cost@bench.example.se"
LOOKUP = "/api/v3/contacts/id?email=cost%40bench.example.se"
DEFAULT_CALLS = 2000
DEFAULT_RUNS = 3
WARM_UP = 50


def per_op_us(op: Callable[[], object], count: int) -> float:
    """CPU microseconds of this thread per call of `op`, after a warm-up."""
    for _ in range(WARM_UP):
        op()
    started = time.thread_time()
    for _ in range(count):
        op()
    return (time.thread_time() - started) * 1e6 / count


class RawRedis:
    """`GET key` over a plain socket, the reply read up to its end (a bulk string)."""

    def __init__(self, url: str, key: str) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
        self._command = f"*2\r\n$3\r\nGET\r\n${len(key)}\r\n{key}\r\n".encode()
        self._file = self._sock.makefile("rb")

    def get(self) -> bytes:
        self._sock.sendall(self._command)
        header = self._file.readline()
        if header.startswith(b"$-1"):
            return b""
        return self._file.read(int(header[1:]) + 2)[:-2]

    def close(self) -> None:
        self._file.close()
        self._sock.close()


class RawHttp:
    """The lookup over one keep-alive `http.client` connection."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
        self._headers = {"apikey": BENCH_KEY, "Accept": "application/json"}

    def lookup(self) -> bytes:
        self._conn.request("GET", LOOKUP, headers=self._headers)
        response = self._conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"lookup answered {response.status}")
        return body

    def close(self) -> None:
        self._conn.close()


def measure(redis_url: str, base_url: str, calls: int) -> dict[str, float]:
    client = redis.Redis.from_url(redis_url)
    client.set("bench:cost", "x" * 36)  # a contactId's length
    script = client.register_script("return redis.call('GET', KEYS[1])")
    raw_redis = RawRedis(redis_url, "bench:cost")
    raw_http = RawHttp(base_url)
    session = requests.Session()
    engage = EngageClient(base_url, BENCH_KEY)
    try:
        return {
            "redis raw GET": per_op_us(raw_redis.get, calls),
            "redis-py GET": per_op_us(lambda: client.get("bench:cost"), calls),
            "redis-py EVALSHA": per_op_us(lambda: script(keys=["bench:cost"]), calls),
            "http.client lookup": per_op_us(raw_http.lookup, calls),
            "requests lookup": per_op_us(
                lambda: session.get(base_url + LOOKUP, headers={"apikey": BENCH_KEY}, timeout=5), calls
            ),
            "EngageClient lookup": per_op_us(lambda: engage.lookup_contact(email=EMAIL), calls),
        }
    finally:
        raw_redis.close()
        raw_http.close()
        session.close()
        client.close()


FLOORS = {
    "redis raw GET": "redis raw GET",
    "redis-py GET": "redis raw GET",
    "redis-py EVALSHA": "redis raw GET",
    "http.client lookup": "http.client lookup",
    "requests lookup": "http.client lookup",
    "EngageClient lookup": "http.client lookup",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    opts = parser.parse_args()
    configure_logging(logging.INFO, secrets=[BENCH_KEY])  # as a worker logs: JSON lines at INFO
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(RELAY_CPU)})
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        workdir = Path(tmp)
        with (
            redis_server(workdir / "redis") as redis_url,
            simulator(workdir / "sim", (BENCH_KEY,), UNLIMITED_RATE) as admin,
        ):
            created = requests.post(
                f"{admin.base_url}/api/v3/contacts",
                json={"email": EMAIL},
                headers={"apikey": BENCH_KEY},
                timeout=5,
            )
            created.raise_for_status()
            for run in range(opts.runs):
                figures = measure(redis_url, admin.base_url, opts.calls)
                runs.append(figures)
                shown = ", ".join(f"{name} {us:.0f}" for name, us in figures.items())
                print(f"run {run + 1} ({opts.calls} each, CPU us per operation): {shown}", flush=True)
    print(f"\nmedians of {len(runs)} runs (CPU microseconds per operation, this process on CPU {RELAY_CPU}):")
    medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    for name, us in medians.items():
        floor = FLOORS[name]
        ratio = "" if floor == name else f"  = {us / medians[floor]:.1f}x {floor}"
        print(f"  {name:22} {us:8.0f}{ratio}")


if __name__ == "__main__":
    main()
