"""The per-process simulator context, reached through `request.app[SIM]`, and the caller's Engage.

`Sim` holds one `SimState` per API key (each key is its own Engage, `simulator.tenancy`); Engage
handlers reach the state of the key that called with `state_of(request)`, admin handlers the key named
by their `apikey` header (the default key without one) with `admin_state(request)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.config import SimConfig
from simulator.errors import ApiError
from simulator.faults import FaultGate
from simulator.seed import apply_seed
from simulator.state import SimState
from simulator.switches import Switches


@dataclass
class Sim:
    """Configuration, faults, switches, the command-line seed, and one state per API key."""

    config: SimConfig
    faults: FaultGate
    startup_seed: dict[str, Any] | None = None
    switches: Switches = field(default_factory=Switches)
    tenants: dict[str, SimState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.config.api_keys:
            raise ValueError("the simulator needs at least one API key")
        for key in self.config.api_keys:
            self.tenants.setdefault(key, self.fresh_state())

    def fresh_state(self) -> SimState:
        """An empty Engage with the command-line seed applied (every key starts from it)."""
        state = SimState()
        if self.startup_seed is not None:
            apply_seed(state, self.startup_seed)
        return state

    @property
    def default_key(self) -> str:
        return self.config.api_keys[0]

    @property
    def state(self) -> SimState:
        """The default key's Engage."""
        return self.tenants[self.default_key]

    def state_for(self, api_key: str | None) -> SimState:
        """The Engage of `api_key` (the default key's for None); ApiError 404 for a key it does not know."""
        state = self.tenants.get(api_key if api_key is not None else self.default_key)
        if state is None:
            raise ApiError(404, "UnknownApiKey", "The simulator has no such API key")
        return state

    def reset(self, api_key: str | None = None) -> None:
        """One key's Engage afresh; without a key, every key's, and faults and switches too."""
        if api_key is not None:
            self.state_for(api_key)
            self.tenants[api_key] = self.fresh_state()
            return
        self.tenants = {key: self.fresh_state() for key in self.config.api_keys}
        self.faults.reset()
        self.switches = Switches()


SIM = web.AppKey("sim", Sim)
API_KEY = web.RequestKey("sim.api_key", str)
ADMIN_KEY_HEADER = "apikey"


def sim_of(request: web.Request) -> Sim:
    return request.app[SIM]


def state_of(request: web.Request) -> SimState:
    """The Engage of the API key that made this (authenticated) Engage request."""
    return request.app[SIM].state_for(request[API_KEY])


def admin_state(request: web.Request) -> SimState:
    """The Engage an admin request names with its `apikey` header; the default key's without one."""
    return request.app[SIM].state_for(request.headers.get(ADMIN_KEY_HEADER))
