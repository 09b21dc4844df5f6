"""promotion.assigned, promotion.redeemed, voucher.redeemed."""

from __future__ import annotations

from schemas import PromotionRedeemed, RedemptionChannel, VoucherRedeemed, parse_event
from tests.support.event_strategies import example
from tests.unit.schemas.rejection import reasons_for, with_data

GUID = "12704681-e1d9-4861-9e75-abad00de9a6a"


def test_assignment_needs_a_customer_and_a_promotion_guid() -> None:
    assert reasons_for(with_data("promotion.assigned", customer={}, promotion_id="WELCOME10")) == [
        (
            "data.customer",
            "at least one identifier is required: contact_id, email, mobile_phone, member_number, "
            "social_security_number, external_id",
        ),
        ("data.promotion_id", "must be a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b"),
    ]


def test_redemption_by_promotion_id_or_assignment_id() -> None:
    # Given the example (by promotion template) and one by assignment
    by_promotion = parse_event(example("promotion.redeemed")).data
    by_assignment = parse_event(with_data("promotion.redeemed", promotion_id=..., assignment_id=GUID)).data
    # Then both are valid, with the channel as Engage names it
    assert isinstance(by_promotion, PromotionRedeemed) and by_promotion.assignment_id is None
    assert isinstance(by_assignment, PromotionRedeemed) and by_assignment.assignment_id == GUID
    assert by_promotion.redemption_channel is RedemptionChannel.POS


def test_redemption_names_the_promotion_and_a_known_channel() -> None:
    envelope = with_data("promotion.redeemed", promotion_id=..., redemption_channel="WEB")
    assert reasons_for(envelope) == [
        ("data.redemption_channel", "Input should be 'ECOM', 'POS' or 'OTHER'"),
    ]
    envelope = with_data("promotion.redeemed", promotion_id=...)
    assert reasons_for(envelope) == [("data", "give assignment_id or promotion_id")]


def test_voucher_by_id_or_number() -> None:
    by_number = parse_event(with_data("voucher.redeemed", voucher_id=..., redemption_channel=...)).data
    assert isinstance(by_number, VoucherRedeemed)
    assert by_number.voucher_number == "2511233093766" and by_number.redemption_channel is None
    assert reasons_for(with_data("voucher.redeemed", voucher_id=..., voucher_number=...)) == [
        ("data", "give voucher_id or voucher_number")
    ]
    assert reasons_for(with_data("voucher.redeemed", voucher_id="2511233093766")) == [
        ("data.voucher_id", "must be a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b")
    ]
