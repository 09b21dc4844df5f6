"""The simulator's own routes under `/_sim/` (never subject to faults, never counted).

Each API key is its own Engage, named by the request's `apikey` header. Without the header the admin
API looks at the whole simulator where it can: `state` is every key's Engage together (lists in key
order, request counts summed; with one key, that key's), `reset` clears every key's Engage plus the
faults and switches; `seed`, which must pick one Engage, seeds the default key's (the first
`--api-key`). Faults and switches are global.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator import bulk, orders
from simulator.bodies import read_json
from simulator.context import ADMIN_KEY_HEADER, admin_state, sim_of
from simulator.seed import apply_seed
from simulator.state import combined_snapshot
from simulator.tenancy import key_id, tenant_folder

routes = web.RouteTableDef()


@routes.get("/_sim/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/_sim/keys")
async def keys(request: web.Request) -> web.Response:
    """Each key's id and import folder (never the key itself)."""
    sim = sim_of(request)
    listed: list[dict[str, Any]] = [
        {"key_id": key_id(key), "import_folder": str(tenant_folder(key)), "default": key == sim.default_key}
        for key in sim.config.api_keys
    ]
    return web.json_response(listed)


@routes.get("/_sim/state")
async def state(request: web.Request) -> web.Response:
    sim = sim_of(request)
    key = request.headers.get(ADMIN_KEY_HEADER)
    states = [sim.state_for(key)] if key is not None else list(sim.tenants.values())
    for one in states:
        orders.settle(one)
        bulk.settle(one)
    return web.json_response(combined_snapshot(states))


@routes.get("/_sim/faults")
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(sim_of(request).faults.settings.to_json())


@routes.put("/_sim/faults")
async def put_faults(request: web.Request) -> web.Response:
    settings = sim_of(request).faults.update(await read_json(request))
    return web.json_response(settings.to_json())


@routes.get("/_sim/switches")
async def get_switches(request: web.Request) -> web.Response:
    return web.json_response(sim_of(request).switches.to_json())


@routes.put("/_sim/switches")
async def put_switches(request: web.Request) -> web.Response:
    sim = sim_of(request)
    sim.switches = sim.switches.merged(await read_json(request))
    return web.json_response(sim.switches.to_json())


@routes.post("/_sim/reset")
async def post_reset(request: web.Request) -> web.Response:
    sim_of(request).reset(request.headers.get(ADMIN_KEY_HEADER))
    return web.json_response({"status": "reset"})


@routes.post("/_sim/seed")
async def post_seed(request: web.Request) -> web.Response:
    added = apply_seed(admin_state(request), await read_json(request))
    return web.json_response({"added": added})
