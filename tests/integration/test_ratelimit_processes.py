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
STAMP_JITTER_S = 0.02  # a stamp is taken after acquire returns, a few ms after the slot's own time

WORKER = """
import json, sys, time
import redis
from engage.ratelimit import RedisRateLimiter
url, budget, run_s, start_at = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
limiter = RedisRateLimiter(redis.Redis.from_url(url), budget)
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
    # Given three processes that start together and acquire as fast as they can
    start_at = time.time() + 1.0
    args = [redis_url, str(BUDGET_PER_S), str(RUN_S), str(start_at)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    outputs = [p.communicate(timeout=15)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    stamps = [t for out in outputs for t in json.loads(out)]
    # Then, together, no one-second window holds more than the budget, and each process got slots
    assert max_in_any_window(stamps, 1.0 - STAMP_JITTER_S) <= BUDGET_PER_S
    assert len(stamps) >= BUDGET_PER_S + 1
    assert all(json.loads(out) for out in outputs)
