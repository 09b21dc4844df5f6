"""Discount spreading and VAT arithmetic: exact to the cent, never negative, deterministic."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappers.money import CENT, spread_discount, spread_discounts, tax_in_gross, to_cents

D = Decimal

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: Decimal(c) * CENT)


@st.composite
def lines_and_discount(draw: st.DrawFn) -> tuple[list[Decimal], Decimal]:
    lines = draw(st.lists(cents, min_size=1, max_size=30))
    total_cents = int(sum(lines, D(0)) / CENT)
    discount = D(draw(st.integers(min_value=0, max_value=total_cents))) * CENT
    return lines, discount


@pytest.mark.parametrize(
    ("lines", "discount", "expected"),
    [
        # the guides' example basket: 3 lines, 10.00 off the order
        (["99.90", "49.95", "0.15"], "10.00", ["6.66", "3.33", "0.01"]),
        # a cent that cannot be split goes to the largest remainder, then the earlier line
        (["10.00", "10.00", "10.00"], "0.01", ["0.01", "0.00", "0.00"]),
        (["10.00", "10.00", "10.00"], "0.02", ["0.01", "0.01", "0.00"]),
        (["1.00", "2.00"], "1.00", ["0.33", "0.67"]),
        # zero-value lines take nothing
        (["0.00", "50.00", "0.00"], "5.00", ["0.00", "5.00", "0.00"]),
        # the whole order free
        (["3.33", "6.67"], "10.00", ["3.33", "6.67"]),
        (["0.00", "0.00"], "0.00", ["0.00", "0.00"]),
        (["12.34"], "0.00", ["0.00"]),
    ],
)
def test_spread_discount_examples(lines: list[str], discount: str, expected: list[str]) -> None:
    # Given lines and an order discount / When spread / Then each line's share is as expected
    assert spread_discount([D(x) for x in lines], D(discount)) == [D(x) for x in expected]


@pytest.mark.parametrize(
    ("lines", "discount"),
    [
        (["10.00"], "10.01"),  # more than the lines are worth
        (["0.00"], "0.01"),  # nothing to take it from
        (["10.00"], "-1.00"),
        (["10.00"], "0.005"),  # not whole cents
        (["10.005"], "1.00"),
        (["-1.00", "5.00"], "1.00"),
    ],
)
def test_spread_discount_refuses_impossible_input(lines: list[str], discount: str) -> None:
    with pytest.raises(ValueError):
        spread_discount([D(x) for x in lines], D(discount))


@given(lines_and_discount())
def test_spread_discount_is_exact_bounded_and_proportional(case: tuple[list[Decimal], Decimal]) -> None:
    # Given any basket and a discount not larger than it
    lines, discount = case
    # When the discount is spread
    shares = spread_discount(lines, discount)
    # Then the shares add up exactly, stay within each line, and are within a cent of proportional
    assert sum(shares, D(0)) == discount
    total = sum(lines, D(0))
    for line, share in zip(lines, shares, strict=True):
        assert D(0) <= share <= line
        assert share == share.quantize(CENT)
        if total:
            assert abs(share - discount * line / total) < CENT
    # and the same input always gives the same answer
    assert spread_discount(lines, discount) == shares


@given(
    st.lists(cents, min_size=1, max_size=20),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6),
)
def test_spread_discounts_keeps_every_row_and_column_exact(lines: list[Decimal], weights: list[int]) -> None:
    # Given several order discounts that together fit in the basket
    total = sum(lines, D(0))
    weight_sum = sum(weights) or 1
    discounts = [to_cents(total * w / weight_sum / 2) for w in weights]
    # When spread together
    shares = spread_discounts(lines, discounts)
    # Then each discount's column adds to it, each line's row is the single-spread share, none negative
    for column, amount in enumerate(discounts):
        assert sum((row[column] for row in shares), D(0)) == amount
    combined = spread_discount(lines, sum(discounts, D(0)))
    for row, line, expected in zip(shares, lines, combined, strict=True):
        assert all(part >= 0 for part in row)
        assert sum(row, D(0)) == expected <= line


def test_two_halves_of_a_free_order_never_drive_a_line_negative() -> None:
    # Given two 1-cent lines and two 1-cent discounts (each alone would round to the first line)
    shares = spread_discounts([D("0.01"), D("0.01")], [D("0.01"), D("0.01")])
    # Then each line gives exactly its one cent
    assert [sum(row, D(0)) for row in shares] == [D("0.01"), D("0.01")]


@pytest.mark.parametrize(
    ("gross", "percent", "tax"),
    [("200.00", "25", "40.00"), ("100.00", "12", "10.71"), ("99.90", "6", "5.65"), ("10.00", "0", "0.00")],
)
def test_tax_in_gross_takes_vat_out_of_the_paid_price(gross: str, percent: str, tax: str) -> None:
    assert tax_in_gross(D(gross), D(percent)) == D(tax)
