"""Real EngageClients pointed at a running simulator, for integration tests."""

from __future__ import annotations

from typing import Any

import requests

from engage.client import EngageClient
from engage.retry import DEFAULT_SHORT_RETRY
from tests.support.simulator import RunningSimulator


def client_for(sim: RunningSimulator, api_key: str | None = None, **kwargs: Any) -> EngageClient:
    """A client on its own session (tests stay independent), without retry waits unless asked."""
    kwargs.setdefault("retry", DEFAULT_SHORT_RETRY.without_waiting())
    kwargs.setdefault("session", requests.Session())
    return EngageClient(sim.base_url, api_key or sim.api_key, **kwargs)
