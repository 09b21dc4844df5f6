"""Tracking: product views and carts, accepted with 202 and stored [inferred v3 paths]."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.bodies import read_json
from simulator.context import state_of
from simulator.errors import field_error, validation_error
from simulator.state import now_iso

PRODUCTVIEW_REQUIRED = ("itemId", "contactId", "time")
CART_REQUIRED = ("cartReference", "contactId", "time")

routes = web.RouteTableDef()


async def _tracked(request: web.Request, required: tuple[str, ...]) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise validation_error([field_error("", "the body must be a JSON object")])
    errors = [field_error(f, "is required") for f in required if body.get(f) in (None, "")]
    if errors:
        raise validation_error(errors)
    return {**body, "receivedAt": now_iso()}


@routes.post("/api/v3/tracking/productview")
async def productview(request: web.Request) -> web.Response:
    state_of(request).productviews.append(await _tracked(request, PRODUCTVIEW_REQUIRED))
    return web.json_response({}, status=202)


@routes.post("/api/v3/tracking/carts")
async def carts(request: web.Request) -> web.Response:
    body = await _tracked(request, CART_REQUIRED)
    if not isinstance(body.get("items"), list):
        raise validation_error([field_error("items", "must be an array")])
    state_of(request).carts.append(body)
    return web.json_response({}, status=202)
