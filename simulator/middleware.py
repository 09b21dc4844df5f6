"""The one middleware: admin routes pass straight through; Engage routes go through the fault gate.

It also turns `ApiError` into the Engage error body, names the caller's Engage (`context.API_KEY`) and
counts every Engage answer by route template in that key's state (in the default key's when the key is
missing or unknown).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from simulator.context import API_KEY, SIM
from simulator.errors import ApiError, error_response
from simulator.faults import ADMIN_PREFIX, FaultGate, Handler, route_template


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error_code, exc.message, exc.details)
    except web.HTTPException as exc:
        code = "".join(word.capitalize() for word in (exc.reason or "Error").split())
        return error_response(exc.status, code, exc.reason or "")


async def _applied_or_not(
    faults: FaultGate, request: web.Request, key: str, handler: Handler
) -> web.StreamResponse:
    """The handler's answer, or the documented error asked for (after the handler when applied)."""
    injected = faults.documented_error(request, key)
    if injected is None:
        return await handler(request)
    if injected.applied:
        await _answer(request, handler)
    return injected.response()


@web.middleware
async def engage_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(ADMIN_PREFIX):
        return await _answer(request, handler)
    sim = request.app[SIM]
    key = sim.faults.api_key(request)
    state = sim.tenants.get(key, sim.state) if key is not None else sim.state
    state.user_agents[request.headers.get("User-Agent", "")] += 1
    early = await sim.faults.before(request, key)
    hold_s = 0.0
    if early is not None:
        response: web.StreamResponse = early
    else:
        assert key is not None  # the gate refuses a request without a known key
        request[API_KEY] = key
        response = await _answer(request, lambda r: _applied_or_not(sim.faults, r, key, handler))
        hold_s = sim.faults.hold_s()
    state.count_request(route_template(request), response.status)
    if hold_s > 0:
        await asyncio.sleep(hold_s)
    return response
