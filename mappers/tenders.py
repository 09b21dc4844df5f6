"""What a sale was paid with, as its receipt shows it: reward vouchers as discounts or tenders, freight out.

The sale's payments add up to what the customer owed: the articles after their discounts (A) plus the
freight (F) (the schemas refuse payments that are more than 0.01 off). The receipt must add up too:
its items, its `totalGrossPrice` and its `paymentMethods`. So:

- Vouchers as discounts (`TenantPolicy.vouchers_as = "discount"`, the default; Voyado's guides: spread
  discounts, vouchers included, over the item lines so `grossPaidPrice` is what was actually paid): each
  voucher payment leaves the tenders and becomes a discount, first on the articles (spread over the lines
  with the order discounts), and only the part the articles cannot take on the freight (a voucher that
  also paid the shipping). Vouchers are taken in the order paid.
- Vouchers as tenders (`"tender"`): they stay among the paymentMethods as paid.
- Freight left out of the receipt (`include_freight = false`): the freight the tenders paid is taken off
  them too, money tenders first, then voucher tenders (the same split as discount mode: a voucher pays
  articles before shipping), each group in proportion to its tenders' values, to the cent
  (`mappers.money.spread_discount`). Freight included: the tenders stay as paid.

Tenders left at zero are dropped; when nothing is left at all (everything paid by vouchers sent as
discounts) one zero-valued tender of the first payment's type remains, since Engage requires
paymentMethods [inferred: no source says whether an empty list is accepted].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from engage.models import PaymentMethod
from mappers.money import ZERO, spread_discount
from mappers.policy import TenantPolicy
from mappers.receipt_parts import payment_method
from schemas.sales import Payment

CHECK_NUMBER_EXTRA: Final = "checkNumber"
VOUCHER_DESCRIPTION: Final = "Voucher"


@dataclass(frozen=True)
class VoucherDiscount:
    """One voucher payment sent as a discount: how much of it the articles and the freight take."""

    payment: Payment
    on_articles: Decimal
    on_freight: Decimal

    @property
    def description(self) -> str:
        """The payment's description, else `Voucher <checkNumber>`, else `Voucher`."""
        if self.payment.description:
            return self.payment.description
        number = (self.payment.extra or {}).get(CHECK_NUMBER_EXTRA)
        return f"{VOUCHER_DESCRIPTION} {number}" if number else VOUCHER_DESCRIPTION


@dataclass(frozen=True)
class TenderPlan:
    """The vouchers to send as discounts (none in tender mode) and the paymentMethods to send."""

    vouchers: tuple[VoucherDiscount, ...]
    payment_methods: tuple[PaymentMethod, ...]


def _voucher_discounts(
    vouchers: Sequence[Payment], articles: Decimal, freight: Decimal
) -> list[VoucherDiscount]:
    """Each voucher on what the articles can still take, then on the freight, in the order paid."""
    room_articles, room_freight = articles, freight
    discounts = []
    for payment in vouchers:
        on_articles = min(payment.amount, room_articles)
        on_freight = min(payment.amount - on_articles, room_freight)
        room_articles -= on_articles
        room_freight -= on_freight
        discounts.append(VoucherDiscount(payment, on_articles, on_freight))
    return discounts


def _take_off(values: list[Decimal], amount: Decimal) -> tuple[list[Decimal], Decimal]:
    """`values` less at most `amount`, in proportion to each; and what is still left to take off."""
    taken = min(amount, sum(values, ZERO))
    shares = spread_discount(values, taken)
    return [value - share for value, share in zip(values, shares, strict=True)], amount - taken


def _without_freight(
    payments: Sequence[Payment], freight: Decimal, policy: TenantPolicy
) -> list[tuple[Payment, Decimal]]:
    """The tenders less `freight`: money tenders first, then voucher tenders, each in proportion."""
    money = [i for i, p in enumerate(payments) if not policy.is_voucher_payment(p.type)]
    vouchers = [i for i, p in enumerate(payments) if policy.is_voucher_payment(p.type)]
    values = [p.amount for p in payments]
    left = freight
    for group in (money, vouchers):
        reduced, left = _take_off([values[i] for i in group], left)
        for index, value in zip(group, reduced, strict=True):
            values[index] = value
    return list(zip(payments, values, strict=True))


def plan_tenders(
    payments: Sequence[Payment], articles: Decimal, freight: Decimal, policy: TenantPolicy
) -> TenderPlan:
    """The tenders of a sale whose articles come to `articles` (after their discounts) plus `freight`."""
    as_discounts = policy.vouchers_as == "discount"
    vouchers = [p for p in payments if as_discounts and policy.is_voucher_payment(p.type)]
    discounts = _voucher_discounts(vouchers, articles, freight)
    tenders = [p for p in payments if not (as_discounts and policy.is_voucher_payment(p.type))]
    freight_paid = ZERO if policy.include_freight else freight - sum((d.on_freight for d in discounts), ZERO)
    kept = [(p, value) for p, value in _without_freight(tenders, freight_paid, policy) if value > 0]
    if not kept:
        kept = [((tenders or list(payments))[0], ZERO)]
    return TenderPlan(tuple(discounts), tuple(payment_method(p, value) for p, value in kept))
