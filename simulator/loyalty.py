"""Promotions (per-contact assignments, redeem once) and reward vouchers (redeem once).

Promotions and vouchers come from the seed. An assignment gets its own id per contact; assigning a
promotion the contact already holds unredeemed returns that assignment [inferred].
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from simulator.bodies import read_json
from simulator.context import state_of
from simulator.errors import ApiError
from simulator.state import SimState, new_id, now_iso
from simulator.validation import is_guid

REDEMPTION_CHANNELS = frozenset({"ECOM", "POS", "OTHER"})
DEFAULT_VOUCHER_PAGE = 100

routes = web.RouteTableDef()


def is_expired(expires_on: Any) -> bool:
    if not isinstance(expires_on, str) or not expires_on:
        return False
    try:
        moment = datetime.fromisoformat(expires_on)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment < datetime.now(UTC)


def promotions_for(state: SimState, contact_id: str, channel: str | None = None) -> list[dict[str, Any]]:
    found = [a for a in state.promotion_assignments.values() if a["contactId"] == contact_id]
    if channel:
        found = [a for a in found if any(c.get("type") == channel for c in a["redemptionChannels"])]
    return found


def vouchers_for(state: SimState, contact_id: str) -> list[dict[str, Any]]:
    return [v for v in state.vouchers.values() if v.get("contactId") == contact_id]


def _contact_id(state: SimState, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ApiError(400, "InvalidContactId", "contactId is required")
    if value.lower() in state.contacts:
        return value.lower()
    if not is_guid(value):
        raise ApiError(400, "InvalidContactId", "Not a valid contact id")
    raise ApiError(404, "ContactNotFound", "No contact with this id")


def assign(state: SimState, contact_id: Any, promotion_id: Any) -> dict[str, Any]:
    cid = _contact_id(state, contact_id)
    if not isinstance(promotion_id, str) or not promotion_id:
        raise ApiError(400, "InvalidPromotionId", "promotionId is required")
    promotion = state.promotions.get(promotion_id)
    if promotion is None:
        if not is_guid(promotion_id):
            raise ApiError(400, "InvalidPromotionId", "Not a valid promotion id")
        raise ApiError(404, "PromotionNotFound", "No promotion with this id")
    if is_expired(promotion.get("expiresOn")):
        raise ApiError(409, "PromotionExpired", "The promotion has expired")
    for held in promotions_for(state, cid):
        if held["promotionId"] == promotion_id and not held["redeemed"]:
            return held
    assignment_id = new_id()
    assignment: dict[str, Any] = {
        "id": assignment_id,
        "promotionId": promotion_id,
        "contactId": cid,
        "externalId": promotion.get("externalId"),
        "name": promotion.get("name"),
        "redeemed": False,
        "redeemedOn": None,
        "expiresOn": promotion.get("expiresOn"),
        "redemptionChannels": list(promotion.get("redemptionChannels") or []),
    }
    state.promotion_assignments[assignment_id] = assignment
    return assignment


def redeem_promotion(state: SimState, assignment_id: str, channel: Any) -> dict[str, Any]:
    if channel not in REDEMPTION_CHANNELS:
        raise ApiError(400, "NotAValidRedemptionChannel", "redemptionChannel must be ECOM, POS or OTHER")
    assignment = state.promotion_assignments.get(assignment_id)
    if assignment is None:
        raise ApiError(404, "PromotionNotFound", "No promotion assignment with this id")
    if assignment["redeemed"]:
        raise ApiError(409, "PromotionAlreadyRedeemed", "The promotion is already redeemed")
    if is_expired(assignment.get("expiresOn")):
        raise ApiError(409, "PromotionExpired", "The promotion has expired")
    allowed = {c.get("type") for c in assignment["redemptionChannels"]}
    if allowed and channel not in allowed:
        raise ApiError(409, "PromotionNotValidForRedemptionChannel", f"Not redeemable through {channel}")
    at = now_iso()
    assignment.update(redeemed=True, redeemedOn=at)
    state.promotion_redemptions.append(
        {
            "assignmentId": assignment_id,
            "promotionId": assignment["promotionId"],
            "contactId": assignment["contactId"],
            "channel": channel,
            "at": at,
        }
    )
    return assignment


def redeem_voucher(state: SimState, voucher_id: str, channel: Any = None) -> dict[str, Any]:
    voucher = state.vouchers.get(voucher_id)
    if voucher is None:
        if not is_guid(voucher_id):
            raise ApiError(400, "InvalidRewardVoucherId", "Not a valid reward voucher id")
        raise ApiError(404, "RewardVoucherNotFound", "No reward voucher with this id")
    if voucher["redeemed"]:
        raise ApiError(409, "RewardVoucherAlreadyRedeemed", "The voucher is already redeemed")
    if is_expired(voucher.get("expiresOn")):
        raise ApiError(409, "RewardVoucherExpired", "The voucher has expired")
    at = now_iso()
    voucher.update(redeemed=True, redeemedOn=at)
    state.voucher_redemptions.append(
        {
            "voucherId": voucher_id,
            "voucherNumber": voucher.get("voucherNumber"),
            "contactId": voucher.get("contactId"),
            "channel": channel,
            "at": at,
        }
    )
    return voucher


@routes.get("/api/v3/promotion-assignments")
async def list_assignments(request: web.Request) -> web.Response:
    state = state_of(request)
    cid = _contact_id(state, request.query.get("contactId"))
    return web.json_response(promotions_for(state, cid, request.query.get("redemptionChannelType")))


@routes.post("/api/v3/promotion-assignments")
async def create_assignment(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "InvalidContactId", "Body must hold contactId and promotionId")
    return web.json_response(assign(state_of(request), body.get("contactId"), body.get("promotionId")))


@routes.post("/api/v3/promotion-assignments/{assignmentId}/redeem")
async def redeem_assignment(request: web.Request) -> web.Response:
    body = await read_json(request)
    channel = body.get("redemptionChannel") if isinstance(body, dict) else None
    assignment = redeem_promotion(state_of(request), request.match_info["assignmentId"], channel)
    return web.json_response(assignment)


def _voucher_page(request: web.Request, redeemed: bool | None) -> web.Response:
    state = state_of(request)
    cid = _contact_id(state, request.query.get("contactId"))
    items = [v for v in vouchers_for(state, cid) if redeemed is None or v["redeemed"] == redeemed]
    try:
        offset = int(request.query.get("offset", "0"))
        count = int(request.query.get("count", str(DEFAULT_VOUCHER_PAGE)))
    except ValueError as exc:
        raise ApiError(400, "InvalidPaging", "offset and count must be integers") from exc
    page = items[offset : offset + count]
    return web.json_response({"count": len(page), "offset": offset, "totalCount": len(items), "items": page})


@routes.get("/api/v3/reward-vouchers")
async def list_vouchers(request: web.Request) -> web.Response:
    return _voucher_page(request, None)


@routes.get("/api/v3/reward-vouchers/available")
async def list_available_vouchers(request: web.Request) -> web.Response:
    return _voucher_page(request, False)


@routes.get("/api/v3/reward-vouchers/redeemed")
async def list_redeemed_vouchers(request: web.Request) -> web.Response:
    return _voucher_page(request, True)


@routes.post("/api/v3/reward-vouchers/{rewardVoucherId}/redeem")
async def redeem_reward_voucher(request: web.Request) -> web.Response:
    body = await read_json(request)
    channel = body.get("redemptionChannel") if isinstance(body, dict) else None
    voucher = redeem_voucher(state_of(request), request.match_info["rewardVoucherId"], channel)
    return web.json_response(voucher)
