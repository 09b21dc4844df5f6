"""What the read endpoints answer, and the projections from Engage's answers to it (pure functions).

The overview keeps Engage's profile (``attributes``) whole; ``points`` and ``level`` are taken from the
first of ``POINTS_FIELDS`` / ``LEVEL_FIELDS`` Engage sends, at the top of the overview or among the
attributes [inferred: Voyado's reference leaves the overview's loyalty fields undocumented beyond
"bonus balance"; each tenant's level attribute has its own name], else null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from engage.models import PromotionAssignment, RewardVoucher

POINTS_FIELDS: Final = ("bonusBalance", "bonusPoints", "points", "pointBalance")
LEVEL_FIELDS: Final = ("level", "loyaltyLevel", "memberLevel", "membershipLevel", "tier")

Channel = Literal["POS", "ECOM"]


class Voucher(BaseModel):
    id: str
    voucher_number: str | None = None
    name: str | None = None
    redeemed: bool = False
    expires_on: datetime | None = None
    amount: str | None = None
    currency: str | None = None
    points: str | None = None


class Promotion(BaseModel):
    assignment_id: str = Field(description="What redeem takes (promotion.redeemed's assignment_id)")
    promotion_id: str | None = None
    name: str | None = None
    expires_on: datetime | None = None
    channels: list[str] = Field(default_factory=list)


class Overview(BaseModel):
    contact_id: str
    contact_type: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict, description="Engage's contact attributes")
    points: Any = None
    level: Any = None
    promotions: list[Promotion] = Field(default_factory=list)
    reward_vouchers: list[Voucher] = Field(default_factory=list)


class Vouchers(BaseModel):
    contact_id: str
    vouchers: list[Voucher]


class Promotions(BaseModel):
    contact_id: str
    channel: Channel
    promotions: list[Promotion]


class LookupAnswer(BaseModel):
    contact_id: str
    source: Literal["store", "engage"] = Field(
        description="store: the relay already knew the contactId (no Engage call); engage: Engage found it"
    )


def voucher(item: RewardVoucher) -> Voucher:
    value = item.value
    return Voucher(
        id=item.id,
        voucher_number=item.voucher_number,
        name=item.name,
        redeemed=item.redeemed,
        expires_on=item.expires_on,
        amount=str(value.amount) if value is not None and value.amount is not None else None,
        currency=value.currency if value is not None else None,
        points=str(item.points) if item.points is not None else None,
    )


def promotion(item: PromotionAssignment) -> Promotion:
    return Promotion(
        assignment_id=item.id,
        promotion_id=item.promotion_id,
        name=item.name,
        expires_on=item.expires_on,
        channels=[c.type for c in item.redemption_channels if c.type],
    )


def active(items: list[PromotionAssignment], now: datetime) -> list[PromotionAssignment]:
    """Assignments that can still be redeemed: not redeemed, not expired."""
    return [a for a in items if not a.redeemed and (a.expires_on is None or a.expires_on > now)]


def overview(document: dict[str, Any]) -> Overview:
    """Engage's overview document (``contact_overview_document``) as the answer."""
    attributes = document.get("attributes") if isinstance(document.get("attributes"), dict) else {}
    promotions = [PromotionAssignment.model_validate(p) for p in document.get("promotions") or []]
    vouchers = [RewardVoucher.model_validate(v) for v in document.get("rewardVouchers") or []]
    return Overview(
        contact_id=document["id"],
        contact_type=document.get("contactType"),
        profile=dict(attributes or {}),
        points=_first(document, attributes or {}, POINTS_FIELDS),
        level=_first(document, attributes or {}, LEVEL_FIELDS),
        promotions=[promotion(p) for p in promotions if not p.redeemed],
        reward_vouchers=[voucher(v) for v in vouchers if not v.redeemed],
    )


def _first(document: dict[str, Any], attributes: dict[str, Any], names: tuple[str, ...]) -> Any:
    for source in (document, attributes):
        for name in names:
            if source.get(name) is not None:
                return source[name]
    return None
