"""Receipts: validate, check the store, match the contact, deduplicate on uniqueReceiptId, keep.

`apply_receipt` is shared by `POST /api/v3/receipts` and the transactions file import.
A receipt whose contact cannot be found by a key other than contactId is accepted and ignored,
as Engage's asynchronous import ignores receipts of unknown contacts; it is listed under
`unmatched_receipts` in the state. Once stores are seeded, an unknown `storeExternalId` is 422
ValidationError "Store is missing" [inferred: Voyado says the store must exist, not how it refuses].
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from engage.models import canonical_match_key_type
from simulator.bodies import read_json
from simulator.contacts import find_by_match_key
from simulator.context import sim_of, state_of
from simulator.errors import ApiError, validation_error
from simulator.state import SimState, now_iso
from simulator.stores import check_store
from simulator.validation import receipt_errors

Outcome = Literal["stored", "duplicate", "unmatched"]

routes = web.RouteTableDef()


def apply_receipt(
    state: SimState, receipt: Any, via: str = "api", *, totals_must_add_up: bool = False
) -> Outcome:
    """Apply one receipt; ApiError 422 when invalid, 404 when a contactId names no contact."""
    errors = receipt_errors(receipt, totals_must_add_up=totals_must_add_up)
    if errors:
        raise validation_error(errors)
    check_store(state, receipt["storeExternalId"], "storeExternalId")
    unique_id = str(receipt["uniqueReceiptId"])
    if unique_id in state.receipt_ids:
        state.duplicate_receipts.append(unique_id)
        return "duplicate"
    key_type = canonical_match_key_type(str(receipt["contact"]["matchKeyType"]))
    type_name = receipt["contact"].get("contactType") if key_type != "contactId" else None
    if isinstance(type_name, str):
        type_name = next((t for t in state.contact_types if t.lower() == type_name.lower()), type_name)
    matches = find_by_match_key(
        state, str(receipt["contact"]["matchKeyType"]), str(receipt["contact"]["matchKey"]), type_name
    )
    if not matches and key_type == "contactId":
        raise ApiError(404, "ContactNotFound", "No contact with this id")
    if len(matches) != 1:
        reason = "ContactNotFound" if not matches else "MultipleMatches"
        state.unmatched_receipts.append({"uniqueReceiptId": unique_id, "reason": reason, "via": via})
        return "unmatched"
    state.receipt_ids.add(unique_id)
    state.receipts.append(
        {
            "uniqueReceiptId": unique_id,
            "contactId": matches[0].id,
            "via": via,
            "receivedAt": now_iso(),
            "receipt": receipt,
        }
    )
    return "stored"


@routes.post("/api/v3/receipts")
async def create_receipt(request: web.Request) -> web.Response:
    body = await read_json(request)
    if body is None:
        raise ApiError(400, "NoData", "The request has no receipt")
    totals = sim_of(request).switches.receipt_totals_must_add_up
    apply_receipt(state_of(request), body, totals_must_add_up=totals)
    return web.json_response({}, status=202)
