"""HTTP handlers for the stores: `GET /api/v3/stores` and `GET /api/v3/stores/{externalId}` [inferred
v3 paths, the v2 Swagger's shape]."""

from __future__ import annotations

from aiohttp import web

from simulator.bodies import query_flag
from simulator.context import state_of
from simulator.errors import ApiError

routes = web.RouteTableDef()


@routes.get("/api/v3/stores")
async def list_stores(request: web.Request) -> web.Response:
    everyone = query_flag(request, "includeInactive")
    stores = [s for s in state_of(request).stores.values() if everyone or s.get("active", True)]
    return web.json_response(stores)


@routes.get("/api/v3/stores/{externalId}")
async def get_store(request: web.Request) -> web.Response:
    store = state_of(request).stores.get(request.match_info["externalId"])
    if store is None or (not store.get("active", True) and not query_flag(request, "includeInactive")):
        raise ApiError(404, "StoreNotFound", "No store with this externalId")
    return web.json_response(store)
