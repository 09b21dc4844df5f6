"""The simulator's own routes under `/_sim/` (never subject to faults, never counted)."""

from __future__ import annotations

from aiohttp import web

from simulator import bulk, orders
from simulator.bodies import read_json
from simulator.context import Sim, sim_of
from simulator.seed import apply_seed
from simulator.state import SimState

routes = web.RouteTableDef()


def reset(sim: Sim) -> None:
    """Clear state and faults; re-apply the command-line seed."""
    sim.state = SimState()
    sim.faults.reset()
    if sim.startup_seed is not None:
        apply_seed(sim.state, sim.startup_seed)


@routes.get("/_sim/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/_sim/state")
async def state(request: web.Request) -> web.Response:
    sim = sim_of(request)
    orders.settle(sim.state)
    bulk.settle(sim.state)
    return web.json_response(sim.state.snapshot())


@routes.get("/_sim/faults")
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(sim_of(request).faults.settings.to_json())


@routes.put("/_sim/faults")
async def put_faults(request: web.Request) -> web.Response:
    settings = sim_of(request).faults.update(await read_json(request))
    return web.json_response(settings.to_json())


@routes.post("/_sim/reset")
async def post_reset(request: web.Request) -> web.Response:
    reset(sim_of(request))
    return web.json_response({"status": "reset"})


@routes.post("/_sim/seed")
async def post_seed(request: web.Request) -> web.Response:
    added = apply_seed(sim_of(request).state, await read_json(request))
    return web.json_response({"added": added})
