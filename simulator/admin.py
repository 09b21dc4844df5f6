"""The simulator's own routes under `/_sim/` (never subject to faults, never counted).

Each API key is its own Engage: `state` and `seed` act on the key named by the request's `apikey`
header (the default key, the first `--api-key`, without one); `reset` with that header clears that
key's Engage, without it every key's plus the faults and switches. Faults and switches are global.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator import bulk, orders
from simulator.bodies import read_json
from simulator.context import ADMIN_KEY_HEADER, admin_state, sim_of
from simulator.seed import apply_seed
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
    named = admin_state(request)
    orders.settle(named)
    bulk.settle(named)
    return web.json_response(named.snapshot())


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
