"""HTTP handlers for Orders v3 (the domain rules are in `orders`).

Writes answer the `order_write_status` switch (201 by default: the order API page says "201
Accepted"; 202 the alternative) with `{"jobId", "orderId", "href"}` [inferred body], or, by the
`order_write_answer` switch, only the link to the job (`{"href"}`, or a `Location` header). A write
naming an order the simulator does not have is accepted and its job fails, unless the
`order_unknown_sync_404` switch asks for the old synchronous 404 OrderNotFound. The job poll answers 302
once done; a failed job 200 with its errors [inferred], or the `order_job_failed_status` 4xx. An action
answers 202 as documented, and 404 at once for an unknown order or a stale versionTag, 422 for an order
without a contact (documented).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aiohttp import web

from simulator.bodies import read_json
from simulator.context import sim_of, state_of
from simulator.errors import ApiError, field_error, validation_error
from simulator.orders import accept_job, order_errors, settle
from simulator.state import SimState, now_iso

routes = web.RouteTableDef()


def _accept(request: web.Request, order_id: str, kind: str, payload: dict[str, Any]) -> web.Response:
    sim = sim_of(request)
    job = accept_job(state_of(request), order_id, kind, payload, sim.config.order_job_delay_s)
    href = f"/api/v3/orders/jobs/{job['jobId']}"
    status = sim.switches.order_write_status
    answer = sim.switches.order_write_answer
    if answer == "location":
        return web.Response(status=status, headers={"Location": href})
    body = {"href": href} if answer == "href" else {"jobId": job["jobId"], "orderId": order_id, "href": href}
    return web.json_response(body, status=status)


def _settled(request: web.Request) -> SimState:
    state = state_of(request)
    settle(state)
    return state


def _existing(request: web.Request) -> tuple[SimState, str, dict[str, Any]]:
    state = _settled(request)
    order_id = request.match_info["orderId"]
    found = state.orders.get(order_id)
    if found is None:
        raise ApiError(404, "OrderNotFound", "No order with this id")
    return state, order_id, found


def _target(request: web.Request) -> str:
    """The order a write names; 404 at once only when the `order_unknown_sync_404` switch says so."""
    if sim_of(request).switches.order_unknown_sync_404:
        return _existing(request)[1]
    return request.match_info["orderId"]


async def _order_body(request: web.Request, order_id: str | None = None) -> dict[str, Any]:
    body = await read_json(request)
    if isinstance(body, dict) and order_id is not None:
        body.setdefault("orderId", order_id)
    errors = order_errors(body)
    if order_id is not None and isinstance(body, dict) and body.get("orderId") != order_id:
        errors.append(field_error("orderId", "does not match the path"))
    if errors:
        raise validation_error(errors)
    assert isinstance(body, dict)
    return body


@routes.post("/api/v3/orders")
async def create_order(request: web.Request) -> web.Response:
    body = await _order_body(request)
    return _accept(request, str(body["orderId"]), "create", body)


@routes.get("/api/v3/orders/jobs/{jobId}")
async def get_job(request: web.Request) -> web.Response:
    job = _settled(request).order_jobs.get(request.match_info["jobId"])
    if job is None:
        raise ApiError(404, "JobNotFound", "No job with this id")
    if job["status"] == "Completed" and job["kind"] != "delete":
        return web.Response(status=302, headers={"Location": f"/api/v3/orders/{job['orderId']}"})
    failed_status = sim_of(request).switches.order_job_failed_status
    if job["status"] == "Failed" and failed_status != HTTPStatus.OK:
        raise ApiError(failed_status, "OrderJobFailed", "; ".join(job["errors"]))
    body: dict[str, Any] = {"jobId": job["jobId"], "status": job["status"]}
    if job["status"] == "Failed":
        body["errors"] = job["errors"]
    return web.json_response(body)


@routes.get("/api/v3/orders/{orderId}")
async def get_order(request: web.Request) -> web.Response:
    _, _, found = _existing(request)
    return web.json_response(
        {**found["order"], "versionTag": found["versionTag"], "contactId": found["contactId"]}
    )


@routes.put("/api/v3/orders/{orderId}")
async def replace_order(request: web.Request) -> web.Response:
    order_id = _target(request)
    return _accept(request, order_id, "replace", await _order_body(request, order_id))


@routes.delete("/api/v3/orders/{orderId}")
async def delete_order(request: web.Request) -> web.Response:
    return _accept(request, _target(request), "delete", {})


@routes.post("/api/v3/orders/{orderId}/action")
async def order_action(request: web.Request) -> web.Response:
    state, order_id, found = _existing(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not body.get("action"):
        raise ApiError(400, "InvalidAction", "action is required")
    if body.get("versionTag") != found["versionTag"]:
        raise ApiError(404, "VersionTagMismatch", "versionTag is not the latest processed version")
    if found["contactId"] is None:
        raise ApiError(422, "OrderHasNoContact", "The order has no contact")
    state.order_actions.append(
        {
            "orderId": order_id,
            "action": body["action"],
            "language": body.get("language"),
            "data": body.get("data"),
            "versionTag": body["versionTag"],
            "embedded": False,
            "at": now_iso(),
        }
    )
    return web.json_response({}, status=202)


async def _change(request: web.Request, kind: str, fields: tuple[str, ...]) -> web.Response:
    order_id = _target(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not any(f in body for f in fields):
        raise validation_error([field_error(f, "one of these is required") for f in fields])
    return _accept(request, order_id, kind, {f: body[f] for f in fields if f in body})


@routes.post("/api/v3/orders/{orderId}/change-status")
async def change_status(request: web.Request) -> web.Response:
    return await _change(request, "change-status", ("status", "externalStatus"))


@routes.post("/api/v3/orders/{orderId}/change-delivery")
async def change_delivery(request: web.Request) -> web.Response:
    return await _change(
        request, "change-delivery", ("method", "trackingNumber", "trackingUri", "deliveryDate")
    )
