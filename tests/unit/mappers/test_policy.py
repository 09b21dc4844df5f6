"""TenantPolicy: defaults as shipped, the voucher, freight and country settings, and their validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mappers.policy import TenantPolicy


def test_defaults_send_vouchers_as_discounts_leave_freight_out_and_guess_no_country() -> None:
    policy = TenantPolicy()
    assert policy.vouchers_as == "discount"
    assert policy.include_freight is False
    assert policy.voucher_payment_types == ("voucher", "bonuscheck")
    assert (policy.store_countries, policy.default_country) == ({}, None)
    assert policy.country_for("online") is None


def test_a_stores_country_wins_over_the_tenants_default() -> None:
    policy = TenantPolicy(store_countries={"store-oslo": "NO"}, default_country="SE")
    assert policy.country_for("store-oslo") == "NO"
    assert policy.country_for("online-se") == "SE"


@pytest.mark.parametrize("kind", ["voucher", "BonusCheck", "VOUCHER"])
def test_voucher_tenders_are_recognised_whatever_their_case(kind: str) -> None:
    assert TenantPolicy().is_voucher_payment(kind)


@pytest.mark.parametrize("kind", ["card", "giftcard", "voucher-ish"])
def test_other_tenders_are_money(kind: str) -> None:
    assert not TenantPolicy().is_voucher_payment(kind)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"vouchers_as": "giftcard"}, "vouchers_as"),
        ({"default_country": "se"}, "default_country"),
        ({"default_country": "SWE"}, "default_country"),
        ({"store_countries": {"store-1": "Sweden"}}, "store_countries"),
        ({"store_countries": {" store-1": "SE"}}, "store_countries"),
        ({"voucher_payment_types": [""]}, "voucher_payment_types"),
        ({"voucher_payment_types": "voucher"}, "voucher_payment_types"),
        ({"store_country": {"store-1": "SE"}}, "store_country"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TenantPolicy.model_validate(settings)
    assert {str(error["loc"][0]) for error in caught.value.errors()} == {field}


def test_settings_read_from_a_tenants_file_table() -> None:
    # Given the policy table as TOML gives it (lists, plain strings)
    policy = TenantPolicy.model_validate(
        {
            "vouchers_as": "tender",
            "voucher_payment_types": ["rewardvoucher"],
            "store_countries": {"001": "SE", "101": "FI"},
            "default_country": "SE",
        }
    )
    assert policy.voucher_payment_types == ("rewardvoucher",)
    assert policy.country_for("101") == "FI"
    # and the policy is a value: it survives a JSON round trip unchanged
    assert TenantPolicy.model_validate_json(policy.model_dump_json()) == policy
