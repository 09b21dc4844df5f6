"""Promotion assignment and redemption, voucher redemption: the plans both delivery paths read."""

from __future__ import annotations

import pytest

from mappers.contacts import plan_implicit_create
from mappers.loyalty import (
    plan_assignment,
    plan_promotion_redemption,
    plan_voucher_redemption,
    redemption_channel,
)
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
    plan = plan_assignment(event, TenantPolicy())
    assert plan.request(GUID).to_wire() == {"contactId": GUID, "promotionId": PROMOTION}
    # and it carries the buyer to resolve, and to create as any implicit create is
    assert plan.customer.member_number == "100200300"
    assert plan.create == plan_implicit_create(event, TenantPolicy())
    assert plan.create.body == {"memberNumber": "100200300"}


def test_redeem_promotion_by_template_leaves_the_assignment_to_resolve() -> None:
    # Given the example: the POS knows only the promotion template id
    plan = plan_promotion_redemption(
        PromotionRedeemedEvent.model_validate(example("promotion.redeemed")), TenantPolicy()
    )
    # Then the caller must find the assignment among the buyer's; the body names the POS channel
    assert (plan.assignment_id, plan.promotion_id, plan.needs_contact) == (None, PROMOTION, True)
    assert plan.body.to_wire() == {"redemptionChannel": "POS"}
    assert plan.customer.member_number == "100200300"
    assert plan.receipt_id == "store-001-kassa2-20261124-0457" and plan.order_id is None
    assert plan.redeemed_at.isoformat() == "2026-11-24T09:43:31+01:00"


def test_redeem_promotion_by_assignment() -> None:
    data = {"customer": {"contact_id": GUID}, "assignment_id": ASSIGNMENT, "redemption_channel": "ECOM"}
    plan = plan_promotion_redemption(
        build(PromotionRedeemedEvent, "promotion.redeemed", data), TenantPolicy()
    )
    assert plan.assignment_id == ASSIGNMENT
    assert plan.needs_contact is False
    assert plan.body.redemption_channel == "ECOM"
    assert plan.customer.contact_id == GUID


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
    plan = plan_voucher_redemption(event, TenantPolicy(source="ECOM"))
    assert (plan.voucher_id, plan.voucher_number, plan.needs_contact) == (None, "2511233093766", True)
    assert plan.redemption_channel == expected
    assert plan.create.source == (source or "ECOM")


def test_redeem_voucher_example() -> None:
    event = VoucherRedeemedEvent.model_validate(example("voucher.redeemed"))
    plan = plan_voucher_redemption(event, TenantPolicy())
    assert plan.voucher_id == "af61c5c8-7ff8-1234-9b67-c75300738cd3"
    assert plan.voucher_number == "2511233093766"
    assert plan.needs_contact is False
    assert plan.redemption_channel == "POS"
    assert plan.redeemed_at == event.occurred_at
    assert plan.receipt_id == "store-001-kassa2-20261124-0457"
