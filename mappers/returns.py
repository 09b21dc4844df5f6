"""return.created -> the return receipt, `POST /api/v3/receipts` with RETURN items.

Signs follow Voyado's register-a-return example: each RETURN item has a **negative quantity** and a
**positive** `grossPaidPrice`; `totalGrossPrice` and the refund `paymentMethods` are **negative**.

`grossPaidPrice` is the **line total** refunded (quantity * unit_price, to the cent), not the unit price.
Ref §2.8 notes Voyado's return example is ambiguous (quantity -2, grossPaidPrice 200, total -400); its
purchase example (quantity 2, grossPaidPrice 200, total 200) and the wire contract both read it as the
line total, and the return receipt's total is then exactly minus the sum of its items. `taxAmount` is
positive like the price (the producer's when given, else the VAT inside the line total).

uniqueReceiptId is `return-{return_id}`, distinct from the purchase's `order-...`/`receipt-...`.
The original order id and the reason travel as receipt extraData (Engage does not link the two).
"""

from __future__ import annotations

from typing import Final

from engage.models import ExtraData, ReceiptContact, ReceiptItem, ReceiptRequest
from mappers.money import ZERO, tax_in_gross, to_cents
from mappers.policy import TenantPolicy
from mappers.receipt_parts import (
    RETURN_RECEIPT_PREFIX,
    exchange_rate,
    extra_data,
    payment_methods,
    store_external_id,
)
from schemas.sales import ReturnCreated, ReturnCreatedEvent, ReturnLine

ORIGINAL_ORDER_EXTRA: Final = "originalOrderId"
RETURN_REASON_EXTRA: Final = "returnReason"


def return_receipt_id(event: ReturnCreatedEvent) -> str:
    return f"{RETURN_RECEIPT_PREFIX}{event.data.return_id}"


def _return_item(line: ReturnLine) -> ReceiptItem:
    line_total = to_cents(line.gross)
    return ReceiptItem(
        type="RETURN",
        sku=line.sku,
        quantity=-line.quantity,
        gross_paid_price=line_total,
        tax_amount=line.tax_amount
        if line.tax_amount is not None
        else tax_in_gross(line_total, line.tax_percent),
        tax_percent=line.tax_percent,
        article_number=line.article_number,
        article_name=line.article_name,
        article_group=line.article_group,
        extra_data=extra_data(line.extra),
    )


def _receipt_extras(data: ReturnCreated) -> list[ExtraData] | None:
    extras = {ORIGINAL_ORDER_EXTRA: data.original_order_id, RETURN_REASON_EXTRA: data.reason}
    return extra_data({name: value for name, value in extras.items() if value is not None})


def return_request(
    event: ReturnCreatedEvent, policy: TenantPolicy, contact: ReceiptContact
) -> ReceiptRequest:
    """The return receipt: RETURN items (negative quantities), negative total and refunds."""
    data = event.data
    items = [_return_item(line) for line in data.lines]
    return ReceiptRequest(
        contact=contact,
        unique_receipt_id=return_receipt_id(event),
        receipt_number=data.receipt_number or data.return_id,
        created_date=data.created_at,
        store_external_id=store_external_id(policy, data.store, event.store),
        currency=data.currency,
        exchange_rate_to_group_currency=exchange_rate(
            policy, data.currency, data.exchange_rate_to_group_currency
        ),
        total_gross_price=-sum((item.gross_paid_price for item in items), ZERO),
        payment_methods=payment_methods(data.refunds, refund=True),
        items=items,
        extra_data=_receipt_extras(data),
    )
