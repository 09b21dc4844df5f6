"""Promotion assignments and reward vouchers (responses) and the redeem request."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from engage.models.base import RequestModel, ResponseModel

RedemptionChannel = Literal["ECOM", "POS", "OTHER"]
VOUCHER_LISTS = ("all", "available", "redeemed")


class PromotionAssignmentRequest(RequestModel):
    contact_id: str
    promotion_id: str


class PromotionRedeemRequest(RequestModel):
    redemption_channel: RedemptionChannel


class PromotionRedemptionChannel(ResponseModel):
    type: str | None = None
    value_type: str | None = None
    value: Any = None


class PromotionAssignment(ResponseModel):
    """One promotion given to one contact; ``id`` is what redeem takes, ``promotion_id`` the template."""

    id: str
    promotion_id: str | None = None
    contact_id: str | None = None
    external_id: str | None = None
    name: str | None = None
    redeemed: bool = False
    redeemed_on: datetime | None = None
    expires_on: datetime | None = None
    redemption_channels: list[PromotionRedemptionChannel] = Field(default_factory=list)


class VoucherValue(ResponseModel):
    currency: str | None = None
    amount: Decimal | None = None


class RewardVoucher(ResponseModel):
    id: str
    voucher_number: str | None = None
    name: str | None = None
    redeemed: bool = False
    redeemed_on: datetime | None = None
    expires_on: datetime | None = None
    value: VoucherValue | None = None
    points: Decimal | None = None


class VoucherPage(ResponseModel):
    count: int = 0
    offset: int = 0
    total_count: int | None = None
    items: list[RewardVoucher] = Field(default_factory=list)
