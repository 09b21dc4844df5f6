"""Orders v3 (ref §2.10): validation, asynchronous jobs (done after `order_job_delay_s`), versionTag.

Every write (create, replace, delete, change-status, change-delivery) is accepted as a job and applied
later; `order_routes` holds the HTTP handlers. Jobs are settled lazily: every orders request and every
state snapshot first applies the jobs whose time has come, in the order they were accepted.
A job fails, storing nothing, with the texts of Engage's integration log (ref §2.10): "Contact is
missing" (no contact matches), "Store is missing" (stores are seeded and none is `externalStoreId`),
and, [inferred] wording, "Order is missing" (a replace, delete or change of an order not stored).
An order sent without a contact is stored without one; an action on it answers 422 OrderHasNoContact.

An embedded action (the `action` field of the order) is the action's name, or [inferred shape] the
action endpoint's body without the versionTag: `{"action", "language"?, "data"?}`. It runs once the
version is stored and is kept, with its language and data, under `order_actions`; a later change-status
or change-delivery does not run it again.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from engage.models import canonical_match_key_type
from simulator.contacts import find_by_match_key
from simulator.errors import field_error
from simulator.state import SimState, new_id, now_iso
from simulator.stores import STORE_MISSING, store_missing

REQUIRED_ORDER_FIELDS = ("orderId", "externalStoreId", "status", "currencyCode", "createdAt", "lineItems")
VERSION_TAG_BYTES = 16
CONTACT_MISSING = "Contact is missing"
ORDER_MISSING = "Order is missing"


def _version_tag() -> str:
    return base64.b64encode(os.urandom(VERSION_TAG_BYTES)).decode()


def embedded_action(value: Any) -> dict[str, Any] | None:
    """The embedded action as `{action, language, data}`, None when there is none or it is malformed."""
    if isinstance(value, str) and value:
        return {"action": value, "language": None, "data": None}
    if isinstance(value, dict) and isinstance(value.get("action"), str) and value["action"]:
        return {"action": value["action"], "language": value.get("language"), "data": value.get("data")}
    return None


def order_errors(order: Any) -> list[dict[str, str]]:
    """The 422 field errors of an order body; empty when it is acceptable."""
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
    if order.get("action") is not None and embedded_action(order["action"]) is None:
        errors.append(field_error("action", "must be an action name or {action, language?, data?}"))
    return errors


def _contact_id(state: SimState, order: dict[str, Any]) -> str | None:
    contact = order.get("contact")
    if contact is None:
        return None
    matches = find_by_match_key(state, str(contact["matchKeyType"]), str(contact["matchKey"]))
    if len(matches) != 1:
        raise LookupError(CONTACT_MISSING if not matches else "Contact is ambiguous")
    return matches[0].id


def _next_version(current: dict[str, Any] | None, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    if kind == "create":
        return dict(payload)
    if current is None:
        raise LookupError(ORDER_MISSING)
    if kind == "replace":
        return dict(payload)
    # A change keeps the stored order but not the action its last write embedded: that ran once.
    stored = {k: v for k, v in current["order"].items() if k != "action"}
    if kind == "change-status":
        return {**stored, **payload}
    return {**stored, "delivery": {**(stored.get("delivery") or {}), **payload}}


def _process(state: SimState, job: dict[str, Any]) -> None:
    order_id, kind = job["orderId"], job["kind"]
    current = state.orders.get(order_id)
    if kind == "delete":
        if current is None:
            job.update(status="Failed", errors=[ORDER_MISSING])
        else:
            del state.orders[order_id]
            job["status"] = "Completed"
        return
    errors: list[str] = []
    contact_id = None
    try:
        order = _next_version(current, kind, job["payload"])
        contact_id = _contact_id(state, order)
    except LookupError as exc:
        errors.append(str(exc))
    else:
        if store_missing(state, order.get("externalStoreId")):
            errors.append(STORE_MISSING)
    if errors:
        job.update(status="Failed", errors=errors)
        return
    tag = _version_tag()
    state.orders[order_id] = {"orderId": order_id, "contactId": contact_id, "versionTag": tag, "order": order}
    job["status"] = "Completed"
    action = embedded_action(order.get("action"))
    if action is not None:
        state.order_actions.append(
            {"orderId": order_id, **action, "versionTag": tag, "embedded": True, "at": now_iso()}
        )


def settle(state: SimState, now_s: float | None = None) -> None:
    """Apply every pending job that is due, oldest first."""
    now_s = time.monotonic() if now_s is None else now_s
    for job in state.order_jobs.values():
        if job["status"] == "Pending" and job["dueAt"] <= now_s:
            _process(state, job)


def accept_job(
    state: SimState, order_id: str, kind: str, payload: dict[str, Any], delay_s: float
) -> dict[str, Any]:
    """Queue a write as a job due in `delay_s` (applied at once for 0); returns the job."""
    job_id = new_id()
    job: dict[str, Any] = {
        "jobId": job_id,
        "orderId": order_id,
        "kind": kind,
        "status": "Pending",
        "errors": [],
        "acceptedAt": now_iso(),
        "dueAt": time.monotonic() + delay_s,
        "payload": payload,
    }
    state.order_jobs[job_id] = job
    if delay_s <= 0:
        settle(state)
    return job
