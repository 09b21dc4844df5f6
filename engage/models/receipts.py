"""The receipt (transaction) request, ``POST /api/v3/receipts``, field for field as ref §2.8.

The XML fallback writers read these same models, so they stay plain data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, field_validator

from engage.models.base import Money, RequestModel
from engage.models.match_keys import canonical_match_key_type

ReceiptItemType = Literal["PURCHASE", "RETURN", "ADJUSTMENT"]


class ExtraData(RequestModel):
    name: str
    value: str


def known_match_key_type(value: str) -> str:
    """A matchKeyType of ``MATCH_KEY_TYPES`` (any case, kept as given); ValueError otherwise."""
    if canonical_match_key_type(value) is None:
        raise ValueError(f"{value!r} is not a matchKeyType Engage knows")
    return value


class ReceiptContact(RequestModel):
    """How Engage finds the buyer: ``match_key_type`` is one of ``MATCH_KEY_TYPES`` (any case)."""

    match_key: str
    match_key_type: str
    contact_type: str | None = None

    _known_type = field_validator("match_key_type")(known_match_key_type)


class Discount(RequestModel):
    value: Money
    type: str | None = None
    description: str | None = None


class ReceiptItem(RequestModel):
    """One line; ``gross_paid_price`` is the line total, ``quantity`` is negative for RETURN."""

    type: ReceiptItemType
    sku: str
    quantity: Money
    gross_paid_price: Money
    tax_amount: Money
    tax_percent: Money
    article_number: str
    article_name: str
    pack_quantity: Money | None = None
    article_group: str | None = None
    margin_percent: Money | None = None
    awards_bonus: bool | None = None
    extra_data: list[ExtraData] | None = None
    discounts: list[Discount] | None = None


class PaymentMethod(RequestModel):
    type: str
    value: Money
    description: str | None = None
    extra_data: list[ExtraData] | None = None


class TaxDetail(RequestModel):
    value: Money
    percent: Money
    description: str | None = None
    total_including_tax: Money | None = None
    total_excluding_tax: Money | None = None


class UsedBonusCheck(RequestModel):
    check_number: str


class UsedPromotion(RequestModel):
    promotion_id: str
    coupon_id: str | None = None


class ReceiptRequest(RequestModel):
    """A finalised purchase or return; Engage ignores a repeated ``unique_receipt_id``."""

    contact: ReceiptContact
    unique_receipt_id: str
    receipt_number: str | None = None
    created_date: AwareDatetime
    store_external_id: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exchange_rate_to_group_currency: Money | None = None
    total_gross_price: Money
    tax_details: list[TaxDetail] | None = None
    payment_methods: list[PaymentMethod]
    items: list[ReceiptItem]
    used_bonus_checks: list[UsedBonusCheck] | None = None
    used_promotions: list[UsedPromotion] | None = None
    extra_data: list[ExtraData] | None = None
