"""promotion.assigned / promotion.redeemed / voucher.redeemed -> the loyalty calls, for a resolved contact.

The caller resolves the customer to a contactId first and passes it in.
- assign: `POST /api/v3/promotion-assignments` with `PromotionAssignmentRequest(contactId, promotionId)`.
- redeem a promotion: `POST /api/v3/promotion-assignments/{assignmentId}/redeem` with the channel. When the
  event names only the template (`promotion_id`), the caller finds the contact's unredeemed assignment
  of it (`GET /promotion-assignments?contactId=`) first.
- redeem a voucher: `POST /api/v3/reward-vouchers/{id}/redeem` (no body). When the event names only the
  voucher number, the caller finds its id among the contact's vouchers.

The redemption channel is the event's, else derived from the source: POS -> POS, ECOM -> ECOM,
anything else -> OTHER.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from engage.models import PromotionAssignmentRequest, PromotionRedeemRequest, RedemptionChannel
from mappers.policy import TenantPolicy
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.loyalty import RedemptionChannel as EventChannel

CHANNEL_BY_SOURCE: Final[dict[str, RedemptionChannel]] = {"pos": "POS", "ecom": "ECOM"}
OTHER_CHANNEL: Final[RedemptionChannel] = "OTHER"
CHANNEL_BY_NAME: Final[dict[EventChannel, RedemptionChannel]] = {
    EventChannel.ECOM: "ECOM",
    EventChannel.POS: "POS",
    EventChannel.OTHER: "OTHER",
}


@dataclass(frozen=True)
class RedeemPromotion:
    """Redeem one assignment: by `assignment_id`, else the contact's unredeemed one of `promotion_id`."""

    contact_id: str
    assignment_id: str | None
    promotion_id: str | None
    body: PromotionRedeemRequest


@dataclass(frozen=True)
class RedeemVoucher:
    """Redeem one reward voucher: by `voucher_id`, else the contact's voucher numbered `voucher_number`."""

    contact_id: str
    voucher_id: str | None
    voucher_number: str | None
    redemption_channel: RedemptionChannel


def redemption_channel(given: EventChannel | None, source: str) -> RedemptionChannel:
    """The event's channel, else POS for source POS, ECOM for source ECOM, else OTHER."""
    if given is not None:
        return CHANNEL_BY_NAME[given]
    return CHANNEL_BY_SOURCE.get(source.casefold(), OTHER_CHANNEL)


def assign_promotion(event: PromotionAssignedEvent, contact_id: str) -> PromotionAssignmentRequest:
    return PromotionAssignmentRequest(contact_id=contact_id, promotion_id=event.data.promotion_id)


def redeem_promotion(event: PromotionRedeemedEvent, policy: TenantPolicy, contact_id: str) -> RedeemPromotion:
    data = event.data
    channel = redemption_channel(data.redemption_channel, event.source or policy.source)
    return RedeemPromotion(
        contact_id=contact_id,
        assignment_id=data.assignment_id,
        promotion_id=data.promotion_id,
        body=PromotionRedeemRequest(redemption_channel=channel),
    )


def redeem_voucher(event: VoucherRedeemedEvent, policy: TenantPolicy, contact_id: str) -> RedeemVoucher:
    data = event.data
    return RedeemVoucher(
        contact_id=contact_id,
        voucher_id=data.voucher_id,
        voucher_number=data.voucher_number,
        redemption_channel=redemption_channel(data.redemption_channel, event.source or policy.source),
    )
