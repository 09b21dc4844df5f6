"""Bulk contacts: at most `MAX_BULK_CONTACTS` rows a request, a batch id, per-row results.

A batch is processed `bulk_delay_s` after it is accepted (lazily, on the next status request or
state snapshot), row by row through the same functions as the single-contact API.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from simulator import contacts
from simulator.bodies import json_string, query_flag, read_json
from simulator.context import sim_of, state_of
from simulator.errors import ApiError
from simulator.state import SimState, new_id, now_iso

MAX_BULK_CONTACTS = 4000

routes = web.RouteTableDef()


def _row_error(index: int, row: Any, key: str, exc: ApiError) -> dict[str, Any]:
    details = exc.details.get("errors") if exc.details else None
    message = exc.message if not details else "; ".join(f"{e['field']}: {e['message']}" for e in details)
    key_value = row.get(key) if isinstance(row, dict) else None
    return {"index": index, "key": key_value, "errorCode": exc.error_code, "message": message}


def _update_row(state: SimState, row: Any, type_name: str) -> None:
    if not isinstance(row, dict):
        raise ApiError(400, "NoData", "A row must be an object")
    ctype = contacts.contact_type(state, type_name)
    if row.get("id"):
        contact = contacts.get_contact(state, str(row["id"]))
    else:
        key_value = row.get(ctype.key)
        if key_value in (None, ""):
            raise ApiError(400, "MissingKey", f"A row needs id or {ctype.key}")
        found = contacts.find_by(state, ctype.key, str(key_value), ctype.name)
        if len(found) != 1:
            raise ApiError(404 if not found else 409, "ContactNotFound" if not found else "MultipleMatches")
        contact = found[0]
    contacts.patch_contact(state, contact, {k: v for k, v in row.items() if k != "id"})


def _process(state: SimState, batch: dict[str, Any]) -> None:
    rows: list[Any] = batch.pop("rows")
    key = contacts.contact_type(state, batch["contactType"]).key
    for index, row in enumerate(rows):
        try:
            if batch["operation"] == "create":
                created = contacts.create_contact(state, row, type_name=batch["contactType"], source="bulk")
                batch["createdContactIds"][str(index)] = created.id
            else:
                _update_row(state, row, batch["contactType"])
            batch["succeeded"] += 1
        except ApiError as exc:
            batch["failed"] += 1
            batch["errors"].append(_row_error(index, row, key, exc))
    batch["status"] = "Completed"
    batch["completedAt"] = now_iso()


def settle(state: SimState, now_s: float | None = None) -> None:
    now_s = time.monotonic() if now_s is None else now_s
    for batch in state.bulk_batches.values():
        if batch["status"] == "Pending" and batch["dueAt"] <= now_s:
            _process(state, batch)


async def _accept(request: web.Request, operation: str) -> web.Response:
    sim, state = sim_of(request), state_of(request)
    body = await read_json(request)
    if not isinstance(body, list) or not body:
        raise ApiError(400, "NoData", "The body must be a non-empty array of contacts")
    if len(body) > MAX_BULK_CONTACTS:
        raise ApiError(400, "TooManyContacts", f"At most {MAX_BULK_CONTACTS} contacts per request")
    type_name = contacts.contact_type(state, request.query.get("contactType")).name
    batch_id = new_id()
    state.bulk_batches[batch_id] = {
        "batchId": batch_id,
        "operation": operation,
        "contactType": type_name,
        "avoidTriggeringExport": query_flag(request, "avoidTriggeringExport"),
        "status": "Pending",
        "total": len(body),
        "succeeded": 0,
        "failed": 0,
        "errors": [],
        "createdContactIds": {},
        "acceptedAt": now_iso(),
        "dueAt": time.monotonic() + sim.config.bulk_delay_s,
        "rows": body,
    }
    if sim.config.bulk_delay_s <= 0:
        settle(state)
    return json_string(batch_id, status=202)


@routes.post("/api/v3/contacts/bulk")
async def bulk_create(request: web.Request) -> web.Response:
    return await _accept(request, "create")


@routes.patch("/api/v3/contacts/bulk")
async def bulk_update(request: web.Request) -> web.Response:
    return await _accept(request, "update")


@routes.get("/api/v3/contacts/bulk/status")
async def bulk_status(request: web.Request) -> web.Response:
    state = state_of(request)
    settle(state)
    batch = state.bulk_batches.get(request.query.get("batchId", ""))
    if batch is None:
        raise ApiError(404, "BatchNotFound", "No batch with this id")
    keys = ("batchId", "status", "total", "succeeded", "failed", "errors", "createdContactIds")
    return web.json_response({k: batch[k] for k in keys})
