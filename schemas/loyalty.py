"""promotion.assigned, promotion.redeemed and voucher.redeemed: personal offers and reward vouchers.

Promotions are created in Engage; the shop owns the price logic and tells Engage when a personal
promotion is assigned (a welcome offer at POS sign-up) or used. Vouchers come from points.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import model_validator

from schemas.envelope import DataModel, Envelope, EventType
from schemas.fields import Guid, Identifier
from schemas.identity import CustomerIdentity


class RedemptionChannel(StrEnum):
    """Where a promotion or voucher was used, as Engage names it."""

    ECOM = "ECOM"
    POS = "POS"
    OTHER = "OTHER"


class PromotionAssigned(DataModel):
    """Assign the Engage promotion template `promotion_id` to the customer at once."""

    customer: CustomerIdentity
    promotion_id: Guid


class PromotionRedeemed(DataModel):
    """The customer used a personal promotion.

    `assignment_id` is the customer's own assignment; give `promotion_id` (the template) instead when the shop
    does not know it, and the relay resolves the customer's unredeemed assignment of that promotion.
    """

    customer: CustomerIdentity
    assignment_id: Guid | None = None
    promotion_id: Guid | None = None
    redemption_channel: RedemptionChannel
    order_id: Identifier | None = None
    receipt_id: Identifier | None = None

    @model_validator(mode="after")
    def _names_the_promotion(self) -> Self:
        if self.assignment_id is None and self.promotion_id is None:
            raise ValueError("give assignment_id or promotion_id")
        return self


class VoucherRedeemed(DataModel):
    """The customer used a reward voucher, named by its Engage id or by its voucher number."""

    customer: CustomerIdentity
    voucher_id: Guid | None = None
    voucher_number: Identifier | None = None
    redemption_channel: RedemptionChannel | None = None
    order_id: Identifier | None = None
    receipt_id: Identifier | None = None

    @model_validator(mode="after")
    def _names_the_voucher(self) -> Self:
        if self.voucher_id is None and self.voucher_number is None:
            raise ValueError("give voucher_id or voucher_number")
        return self


class PromotionAssignedEvent(Envelope):
    type: Literal[EventType.PROMOTION_ASSIGNED]
    data: PromotionAssigned


class PromotionRedeemedEvent(Envelope):
    type: Literal[EventType.PROMOTION_REDEEMED]
    data: PromotionRedeemed


class VoucherRedeemedEvent(Envelope):
    type: Literal[EventType.VOUCHER_REDEEMED]
    data: VoucherRedeemed
