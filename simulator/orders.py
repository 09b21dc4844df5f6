"""Orders v3: asynchronous jobs (done after `order_job_delay_s`), versionTag, actions, changes.

Jobs are settled lazily: every orders request and every state snapshot first applies the jobs whose
time has come, in the order they were accepted. A job whose contact cannot be found fails with
"Contact is missing" and stores nothing; an order sent without a contact is stored without one, and
an action on it answers 422 OrderHasNoContact.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from aiohttp import web

from engage.models import canonical_match_key_type
from simulator.bodies import read_json
from simulator.contacts import find_by_match_key
from simulator.context import sim_of, state_of
from simulator.errors import ApiError, field_error, validation_error
from simulator.state import SimState, new_id, now_iso
from simulator.stores import STORE_MISSING, store_missing

REQUIRED_ORDER_FIELDS = ("orderId", "externalStoreId", "status", "currencyCode", "createdAt", "lineItems")
VERSION_TAG_BYTES = 16

routes = web.RouteTableDef()


def _version_tag() -> str:
    return base64.b64encode(os.urandom(VERSION_TAG_BYTES)).decode()


def _order_errors(order: Any) -> list[dict[str, str]]:
    if not isinstance(order, dict):
        return [field_error("", "the order must be a JSON object")]
    errors = [field_error(f, "is required") for f in REQUIRED_ORDER_FIELDS if order.get(f) in (None, "")]
    items = order.get("lineItems")
    if isinstance(items, dict) and not isinstance(items.get("items"), list):
        errors.append(field_error("lineItems.items", "is required"))
    contact = order.get("contact")
    if contact is not None and (
        not isinstance(contact, dict)
        or not contact.get("matchKey")
        or canonical_match_key_type(str(contact.get("matchKeyType", ""))) is None
    ):
        errors.append(field_error("contact", "needs matchKey and a known matchKeyType"))
    return errors


def _contact_id(state: SimState, order: dict[str, Any]) -> str | None:
    contact = order.get("contact")
    if contact is None:
        return None
    matches = find_by_match_key(state, str(contact["matchKeyType"]), str(contact["matchKey"]))
    if len(matches) != 1:
        raise LookupError("Contact is missing" if not matches else "Contact is ambiguous")
    return matches[0].id


def _process(state: SimState, job: dict[str, Any]) -> None:
    order_id, kind, payload = job["orderId"], job["kind"], job["payload"]
    current = state.orders.get(order_id)
    if kind == "delete":
        state.orders.pop(order_id, None)
        job["status"] = "Completed"
        return
    if kind in ("create", "replace"):
        order = dict(payload)
    elif current is None:
        job.update(status="Failed", errors=["Order is missing"])
        return
    elif kind == "change-status":
        order = {**current["order"], **payload}
    else:
        order = {**current["order"], "delivery": {**(current["order"].get("delivery") or {}), **payload}}
    errors: list[str] = []
    contact_id = None
    try:
        contact_id = _contact_id(state, order)
    except LookupError as exc:
        errors.append(str(exc))
    if store_missing(state, order.get("externalStoreId")):
        errors.append(STORE_MISSING)
    if errors:
        job.update(status="Failed", errors=errors)
        return
    tag = _version_tag()
    state.orders[order_id] = {"orderId": order_id, "contactId": contact_id, "versionTag": tag, "order": order}
    job["status"] = "Completed"
    action = order.get("action")
    if isinstance(action, str) and action:
        state.order_actions.append(
            {"orderId": order_id, "action": action, "versionTag": tag, "at": now_iso()}
        )


def settle(state: SimState, now_s: float | None = None) -> None:
    """Apply every pending job that is due, oldest first."""
    now_s = time.monotonic() if now_s is None else now_s
    for job in state.order_jobs.values():
        if job["status"] == "Pending" and job["dueAt"] <= now_s:
            _process(state, job)


def _accept(request: web.Request, order_id: str, kind: str, payload: dict[str, Any]) -> web.Response:
    sim, state = sim_of(request), state_of(request)
    job_id = new_id()
    state.order_jobs[job_id] = {
        "jobId": job_id,
        "orderId": order_id,
        "kind": kind,
        "status": "Pending",
        "errors": [],
        "acceptedAt": now_iso(),
        "dueAt": time.monotonic() + sim.config.order_job_delay_s,
        "payload": payload,
    }
    if sim.config.order_job_delay_s <= 0:
        settle(state)
    body = {"jobId": job_id, "orderId": order_id, "href": f"/api/v3/orders/jobs/{job_id}"}
    return web.json_response(body, status=202)


def _existing(request: web.Request) -> tuple[SimState, str, dict[str, Any]]:
    state = state_of(request)
    settle(state)
    order_id = request.match_info["orderId"]
    found = state.orders.get(order_id)
    if found is None:
        raise ApiError(404, "OrderNotFound", "No order with this id")
    return state, order_id, found


async def _order_body(request: web.Request, order_id: str | None = None) -> dict[str, Any]:
    body = await read_json(request)
    if isinstance(body, dict) and order_id is not None:
        body.setdefault("orderId", order_id)
    errors = _order_errors(body)
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
    state = state_of(request)
    settle(state)
    job = state.order_jobs.get(request.match_info["jobId"])
    if job is None:
        raise ApiError(404, "JobNotFound", "No job with this id")
    if job["status"] == "Completed" and job["kind"] != "delete":
        return web.Response(status=302, headers={"Location": f"/api/v3/orders/{job['orderId']}"})
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
    _, order_id, _ = _existing(request)
    return _accept(request, order_id, "replace", await _order_body(request, order_id))


@routes.delete("/api/v3/orders/{orderId}")
async def delete_order(request: web.Request) -> web.Response:
    _, order_id, _ = _existing(request)
    return _accept(request, order_id, "delete", {})


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
            "versionTag": body["versionTag"],
            "language": body.get("language"),
            "data": body.get("data"),
            "at": now_iso(),
        }
    )
    return web.json_response({}, status=202)


async def _change(request: web.Request, kind: str, fields: tuple[str, ...]) -> web.Response:
    _, order_id, _ = _existing(request)
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
