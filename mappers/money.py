"""Money arithmetic for receipts: cents, VAT out of a gross price, and spreading discounts over lines.

Voyado asks for order-level discounts to be "distributed across all items in a purchase".
`spread_discount` does it proportionally to each line's value, to the cent, with the
largest-remainder method (Hamilton apportionment):

1. each line's exact share is `discount * line / total`;
2. every line gets its share rounded down to the cent;
3. the cents still missing go, one each, to the lines with the largest dropped remainders
   (ties: the earlier line first, so the result is deterministic).

So the shares add up to the discount exactly, each is within one cent of its exact share, and none is
larger than its line (a line only gets an extra cent when its exact share was not a whole cent, and
then rounding up cannot pass the line's own whole-cent value).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal(0)
HUNDRED_PERCENT: Final = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, half away from zero (how tills round)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_json_number(amount: Decimal) -> int | float:
    """An amount for a free-form JSON object (typed models serialise Decimals themselves)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def is_whole_cents(amount: Decimal) -> bool:
    return amount == amount.quantize(CENT)


def tax_in_gross(gross: Decimal, tax_percent: Decimal) -> Decimal:
    """The VAT inside a VAT-inclusive amount: `gross * pct / (100 + pct)`, to the cent."""
    if tax_percent < 0:
        raise ValueError(f"tax_percent must not be negative, got {tax_percent}")
    return to_cents(gross * tax_percent / (HUNDRED_PERCENT + tax_percent))


def _check_amounts(line_totals: Sequence[Decimal], discount: Decimal) -> Decimal:
    if discount < 0 or not is_whole_cents(discount):
        raise ValueError(f"discount must be a non-negative whole-cent amount, got {discount}")
    for index, line in enumerate(line_totals):
        if line < 0 or not is_whole_cents(line):
            raise ValueError(f"line {index} must be a non-negative whole-cent amount, got {line}")
    total = sum(line_totals, ZERO)
    if discount > total:
        raise ValueError(f"discount {discount} exceeds the lines' total {total}")
    return total


def spread_discount(line_totals: Sequence[Decimal], discount: Decimal) -> list[Decimal]:
    """Each line's share of `discount`, proportional to its value, summing exactly to `discount`.

    Lines and discount are non-negative whole-cent amounts and the discount is at most the lines' total
    (`ValueError` otherwise). Zero-value lines get a zero share; with no value at all only a zero
    discount can be spread.
    """
    total = _check_amounts(line_totals, discount)
    if discount == 0:
        return [ZERO for _ in line_totals]
    discount_cents = int(discount / CENT)
    exact = [Decimal(discount_cents) * line / total for line in line_totals]  # in cents
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    missing = discount_cents - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:missing]:
        floors[index] += 1
    return [Decimal(cents) * CENT for cents in floors]


def spread_discounts(line_totals: Sequence[Decimal], discounts: Sequence[Decimal]) -> list[list[Decimal]]:
    """Several order discounts over the lines: `result[line][discount]`, each a whole-cent share.

    Each line's combined share is `spread_discount(line_totals, sum(discounts))` (so it is within a cent
    of proportional and never more than the line); that combined share is then split between the
    discounts so every discount's column adds up to it exactly: each discount but the last is spread
    over what the lines can still take, and the last takes the rest.
    """
    for index, amount in enumerate(discounts):
        if amount < 0 or not is_whole_cents(amount):
            raise ValueError(f"discount {index} must be a non-negative whole-cent amount, got {amount}")
    combined = spread_discount(line_totals, sum(discounts, ZERO))
    shares: list[list[Decimal]] = [[] for _ in line_totals]
    room = list(combined)
    for position, amount in enumerate(discounts):
        last = position == len(discounts) - 1
        parts = list(room) if last else spread_discount(room, amount)
        for line, part in enumerate(parts):
            shares[line].append(part)
            room[line] -= part
    return shares
