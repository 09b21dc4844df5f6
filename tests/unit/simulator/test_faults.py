"""Fault primitives: the lognormal latency fit, the per-key window, settings validation, inject rules."""

from __future__ import annotations

import random
import statistics

import pytest

from simulator.documented_errors import Injection, take_rule
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


@pytest.mark.parametrize(
    "rule",
    [
        {"error": "Teapot"},
        {"error": "GatewayTimeout", "route": "POST /api/v3/contacts"},  # not documented there
        {"error": "GatewayTimeout", "times": 0},
        {"error": "GatewayTimeout", "applied": "yes"},
        {"error": "GatewayTimeout", "colour": "red"},
        "GatewayTimeout",
    ],
)
def test_bad_inject_rules_are_refused(rule: object) -> None:
    with pytest.raises(ApiError) as caught:
        FaultSettings().merged({"inject": [rule]})
    assert caught.value.error_code == "InvalidFaults"


def test_an_inject_rule_counts_down_and_defaults_to_its_documented_routes() -> None:
    # Given two answers of InvalidSystemConfiguration, on every route Voyado documents it for
    settings = FaultSettings().merged({"inject": [{"error": "InvalidSystemConfiguration", "times": 2}]})
    # Then a route it is not documented for is untouched, and the documented ones take one each
    assert take_rule(settings.inject, "POST /api/v3/contacts", "k") is None
    assert take_rule(settings.inject, "GET /api/v3/contacts/id", "k") == Injection(
        "InvalidSystemConfiguration", applied=False
    )
    assert take_rule(settings.inject, "GET /api/v3/contactoverview", "k") is not None
    assert take_rule(settings.inject, "GET /api/v3/contacts/id", "k") is None
    assert settings.inject == []


def test_an_inject_rule_may_name_one_key_and_last_until_replaced() -> None:
    settings = FaultSettings().merged(
        {"inject": [{"error": "ContactWithKeyIsBeingCreated", "times": None, "key": "k2", "applied": True}]}
    )
    assert take_rule(settings.inject, "POST /api/v3/contacts", "k1") is None
    for _ in range(3):
        assert take_rule(settings.inject, "POST /api/v3/contacts", "k2") == Injection(
            "ContactWithKeyIsBeingCreated", applied=True
        )
