"""Several real processes share one Redis rate limiter and never exceed the budget together."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BUDGET_PER_S = 15
PROCESSES = 3
RUN_S = 1.6
START_MARGIN_S = 0.3  # every process is ready and waiting: the start time only needs to reach them
STAMP_JITTER_S = 0.02  # a stamp is taken after acquire returns, a few ms after the slot's own time

WORKER = """
import json, sys, time
import redis
from engage.ratelimit import RedisRateLimiter
url, budget, run_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
limiter = RedisRateLimiter(redis.Redis.from_url(url), budget)
limiter.budget_for("key-a")
print("ready", flush=True)
start_at = float(sys.stdin.readline())
while time.time() < start_at:
    time.sleep(0.001)
stamps = []
while time.time() < start_at + run_s:
    limiter.acquire("key-a", max_wait_s=5.0)
    stamps.append(time.time())
print(json.dumps(stamps))
"""


def max_in_any_window(stamps: list[float], window_s: float) -> int:
    stamps = sorted(stamps)
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while t - stamps[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_processes_sharing_redis_stay_within_the_budget(redis_url: str, tmp_path: Path) -> None:
    # Given three processes that start together (once all are ready) and acquire as fast as they can
    args = [redis_url, str(BUDGET_PER_S), str(RUN_S)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start_at = time.time() + START_MARGIN_S
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n")
        proc.stdin.flush()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    stamps = [t for out in outputs for t in json.loads(out)]
    # Then, together, no one-second window holds more than the budget, and each process got slots
    assert max_in_any_window(stamps, 1.0 - STAMP_JITTER_S) <= BUDGET_PER_S
    assert len(stamps) >= BUDGET_PER_S + 1
    assert all(json.loads(out) for out in outputs)
