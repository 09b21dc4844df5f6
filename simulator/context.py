"""The per-process simulator context that every handler reaches through `request.app[SIM]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulator.config import SimConfig
from simulator.faults import FaultGate
from simulator.state import SimState


@dataclass
class Sim:
    """Configuration, state, faults, and the seed given on the command line (re-applied on reset)."""

    config: SimConfig
    faults: FaultGate
    state: SimState = field(default_factory=SimState)
    startup_seed: dict[str, Any] | None = None


SIM = web.AppKey("sim", Sim)


def sim_of(request: web.Request) -> Sim:
    return request.app[SIM]
