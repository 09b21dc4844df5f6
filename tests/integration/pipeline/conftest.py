"""A running relay (ingest + worker processes) against a private Redis and the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack, relay_stack

TENANT_A = "acme-se"
TENANT_B = "nordic-no"
PROMOTION_WELCOME = "8d1f4c2a-5b6e-4f70-9a3b-2c1d0e9f8a7b"
VOUCHER_ID = "af61c5c8-7ff8-1234-9b67-c75300738cd3"


def two_tenants(simulator: RunningSimulator) -> dict[str, dict[str, object]]:
    return {
        TENANT_A: {
            "base_url": simulator.base_url,
            "api_key_env": "ACME_KEY",
            "rate_budget_per_s": 40,
            "policy": {"source": "ECOM", "default_store": "online-se", "group_currency": "SEK"},
        },
        TENANT_B: {
            "base_url": simulator.base_url,
            "api_key_env": "NORDIC_KEY",
            "rate_budget_per_s": 40,
            "policy": {
                "source": "POS",
                "default_store": "store-001",
                "group_currency": "SEK",
                "include_freight": True,
                "exchange_rates": {"NOK": "0.98"},
            },
        },
    }


@pytest.fixture
def stack(redis_url: str, simulator: RunningSimulator, tmp_path: Path) -> Iterator[RelayStack]:
    env = {"ACME_KEY": simulator.api_key, "NORDIC_KEY": simulator.api_key_2}
    with relay_stack(redis_url, tmp_path / "relay", two_tenants(simulator), env) as running:
        running.start_worker()
        running.start_ingest()
        yield running
