"""Pieces every receipt shares, purchase or return: ids, store, currency, payments, extra data.

uniqueReceiptId (Engage's dedupe key, so stable across retries and replays) is the producer's id with a
fixed prefix per kind of sale, so an e-com order, a POS receipt and a return with the same number never
collide: `order-{order_id}`, `receipt-{receipt_id}`, `return-{return_id}`. One delivery of an order
delivered in parts is `order-{order_id}-{delivery_id}`, so each delivery is its own receipt and a second
one is not dropped as a duplicate of the first. [choice] A shop whose order ids can themselves end in
`-<a delivery id>` could make two ids meet (order `A-1` whole, order `A` delivery `1`); order ids of one
shop share one shape, so this is left to the producer. It uses nothing configurable (not the source,
not the mapped store), so a tenant's config change cannot make Engage count a replayed receipt twice.
A POS `receipt_id` must be unique within the tenant (POS systems usually include store and till in it).

storeExternalId: the sale's own `store`, else the envelope's `store`, else the tenant's default store,
translated by the tenant's store map (`TenantPolicy.store_for`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from engage.models import ExtraData, PaymentMethod
from mappers.policy import TenantPolicy
from schemas.sales import Payment

ORDER_RECEIPT_PREFIX: Final = "order-"
DELIVERY_SEPARATOR: Final = "-"
POS_RECEIPT_PREFIX: Final = "receipt-"
RETURN_RECEIPT_PREFIX: Final = "return-"


def store_external_id(policy: TenantPolicy, sale_store: str | None, envelope_store: str | None) -> str:
    """The Engage store for a sale: its own store, else the envelope's, else the tenant default; mapped."""
    return policy.store_for(sale_store or envelope_store)


def exchange_rate(policy: TenantPolicy, currency: str, given: Decimal | None) -> Decimal | None:
    """exchangeRateToGroupCurrency: only for a foreign currency; the event's, else the tenant's, else none.

    With none, Engage converts by the conversion scheme set up in the tenant (Voyado's POS guide).
    """
    if currency == policy.group_currency:
        return None
    return given if given is not None else policy.exchange_rates.get(currency)


def extra_data(extra: Mapping[str, str] | None) -> list[ExtraData] | None:
    """Our `{name: value}` extras as Engage's `[{name, value}]`, in the producer's order; None when empty."""
    if not extra:
        return None
    return [ExtraData(name=name, value=value) for name, value in extra.items()]


def payment_method(payment: Payment, value: Decimal) -> PaymentMethod:
    """One tender as a paymentMethod (type, description, extraData) worth `value`."""
    return PaymentMethod(
        type=payment.type, value=value, description=payment.description, extra_data=extra_data(payment.extra)
    )


def payment_methods(payments: Sequence[Payment], *, refund: bool = False) -> list[PaymentMethod]:
    """Tenders as paid, as paymentMethods; refunds are negative values."""
    sign = Decimal(-1) if refund else Decimal(1)
    return [payment_method(payment, sign * payment.amount) for payment in payments]
