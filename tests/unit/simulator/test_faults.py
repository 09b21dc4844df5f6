"""Fault primitives: the lognormal latency fit, the per-key window, and settings validation."""

from __future__ import annotations

import random
import statistics

import pytest

from simulator.errors import ApiError
from simulator.faults import FaultSettings, RateLimiter, latency_sample_s


def test_latency_sample_matches_p50_and_p99() -> None:
    rng = random.Random(3)
    samples = sorted(latency_sample_s({"p50": 50, "p99": 300}, rng) * 1000 for _ in range(20000))
    assert statistics.median(samples) == pytest.approx(50, rel=0.05)
    assert samples[int(len(samples) * 0.99)] == pytest.approx(300, rel=0.15)


def test_rate_limiter_counts_per_key_per_window() -> None:
    limiter = RateLimiter()
    assert [limiter.admit("k1", 2, now_s=10.1) for _ in range(3)] == [True, True, False]
    assert limiter.admit("k2", 2, now_s=10.2)
    assert limiter.admit("k1", 2, now_s=11.0)


@pytest.mark.parametrize(
    "changes",
    [
        {"error_rate": 1.5},
        {"latency_ms": {"p50": 100, "p99": 10}},
        {"error_statuses": [418]},
        {"rate_limit": 0},
        {"unknown": True},
        ["not", "an", "object"],
    ],
)
def test_bad_fault_settings_are_refused(changes: object) -> None:
    with pytest.raises(ApiError):
        FaultSettings().merged(changes)


def test_fault_settings_merge_keeps_other_values() -> None:
    merged = FaultSettings(rate_limit=50).merged({"outage": True})
    assert (merged.outage, merged.rate_limit) == (True, 50)
