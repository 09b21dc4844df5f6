"""Promotion assignment and redemption, voucher redemption: ids, contact and redemption channel."""

from __future__ import annotations

import pytest

from mappers.loyalty import assign_promotion, redeem_promotion, redeem_voucher, redemption_channel
from mappers.policy import TenantPolicy
from schemas.loyalty import (
    PromotionAssignedEvent,
    PromotionRedeemedEvent,
    RedemptionChannel,
    VoucherRedeemedEvent,
)
from tests.unit.mappers.events import GUID, build, example

PROMOTION = "8d1f4c2a-5b6e-4f70-9a3b-2c1d0e9f8a7b"
ASSIGNMENT = "12704681-e1d9-4861-9e75-abad00de9a6a"


def test_assign_promotion_names_the_resolved_contact() -> None:
    event = PromotionAssignedEvent.model_validate(example("promotion.assigned"))
    assert assign_promotion(event, GUID).to_wire() == {"contactId": GUID, "promotionId": PROMOTION}


def test_redeem_promotion_by_template_leaves_the_assignment_to_resolve() -> None:
    # Given the example: the POS knows only the promotion template id
    plan = redeem_promotion(
        PromotionRedeemedEvent.model_validate(example("promotion.redeemed")), TenantPolicy(), GUID
    )
    # Then the caller must find the assignment; the body names the POS channel
    assert (plan.assignment_id, plan.promotion_id, plan.contact_id) == (None, PROMOTION, GUID)
    assert plan.body.to_wire() == {"redemptionChannel": "POS"}


def test_redeem_promotion_by_assignment() -> None:
    data = {"customer": {"contact_id": GUID}, "assignment_id": ASSIGNMENT, "redemption_channel": "ECOM"}
    plan = redeem_promotion(build(PromotionRedeemedEvent, "promotion.redeemed", data), TenantPolicy(), GUID)
    assert plan.assignment_id == ASSIGNMENT
    assert plan.body.redemption_channel == "ECOM"


@pytest.mark.parametrize(
    ("given", "source", "expected"),
    [
        (RedemptionChannel.OTHER, "POS", "OTHER"),  # the event's channel wins
        (None, "POS", "POS"),
        (None, "ecom", "ECOM"),
        (None, "ERP", "OTHER"),
    ],
)
def test_redemption_channel_from_event_else_source(
    given: RedemptionChannel | None, source: str, expected: str
) -> None:
    assert redemption_channel(given, source) == expected


@pytest.mark.parametrize(("source", "expected"), [(None, "ECOM"), ("POS", "POS")])
def test_redeem_voucher_by_number_takes_the_channel_from_the_source(
    source: str | None, expected: str
) -> None:
    data = {"customer": {"member_number": "1"}, "voucher_number": "2511233093766"}
    event = build(VoucherRedeemedEvent, "voucher.redeemed", data, source=source)
    plan = redeem_voucher(event, TenantPolicy(source="ECOM"), GUID)
    assert (plan.voucher_id, plan.voucher_number, plan.contact_id) == (None, "2511233093766", GUID)
    assert plan.redemption_channel == expected


def test_redeem_voucher_example() -> None:
    plan = redeem_voucher(
        VoucherRedeemedEvent.model_validate(example("voucher.redeemed")), TenantPolicy(), GUID
    )
    assert plan.voucher_id == "af61c5c8-7ff8-1234-9b67-c75300738cd3"
    assert plan.redemption_channel == "POS"
