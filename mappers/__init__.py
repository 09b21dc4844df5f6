"""mappers: pure functions from a validated inbound event to the planned Engage requests (no I/O).

They read nothing but their arguments (no clock, no randomness, no network) and import only `schemas`
and `engage.models`. The XML file fallback is built from the same output as the API path.

Public API:

- policy: `TenantPolicy` (a tenant's mapping rules; `store_for(store)`, `country_for(store_external_id)`,
  `is_voucher_payment(type)`).
- money: `spread_discount(line_totals, discount) -> list[Decimal]` (largest remainder, exact to the cent),
  `spread_discounts(line_totals, discounts) -> list[list[Decimal]]`, `tax_in_gross(gross, pct)`,
  `to_cents(amount)`.
- identity: `LookupKey(kind, value)`, `lookup_keys(identity, policy)` (contactId, the tenant key, the rest),
  `identity_ref(identity, policy)` (what work on one customer is serialized under),
  `receipt_contact(contact_id)`, `receipt_contact_by_key(identity, policy)`, `order_contact(contact_id)`.
- contacts: `contact_attributes(event, policy) -> dict` (Engage names, no empty values),
  `plan_create(event, policy) -> CreateContactPlan`, `plan_implicit_create(event, policy)` for the buyer of
  a purchase, return, order or offer (`plan_create_from_identity(identity, policy, source, store)`,
  `buyer_store(event)`), `flatten_attributes(attrs)` (flat keys for diffing),
  `plan_update(changed) -> dict` (PATCH body).
- receipts: `receipt_request(event, policy, contact) -> ReceiptRequest` for order.delivered (a whole order
  or one delivery of it) and receipt.completed; `unique_receipt_id(event)`.
- tenders: `plan_tenders(payments, articles, freight, policy) -> TenderPlan` (vouchers as discounts or
  tenders, freight left out of the tenders too), used by `receipt_request`.
- returns: `return_request(event, policy, contact) -> ReceiptRequest` for return.created.
- loyalty: `plan_assignment(event, policy) -> PromotionAssignmentPlan`,
  `plan_promotion_redemption(event, policy) -> PromotionRedemptionPlan`,
  `plan_voucher_redemption(event, policy) -> VoucherRedemptionPlan`, `redemption_channel(given, source)`.
- orders: `order_plan(event, policy, contact) -> OrderPlan` (`write`, `request`, `action`, `embedded()`,
  `action_request(version_tag)`); `line_items`, `order_delivery`, `order_fees`, `order_discounts`.
- order_journey: `order_move(event, policy, contact) -> OrderMove | None` for order.delivered and a
  return.created naming its order (`write`, `change`, `replacement`, `creation`).
- tracking: `product_view(event, contact_id=None)`, `cart_update(event, contact_id=None)`.
"""

from __future__ import annotations

from mappers.contacts import (
    BuyerEvent,
    CreateContactPlan,
    buyer_store,
    contact_attributes,
    flatten_attributes,
    plan_create,
    plan_create_from_identity,
    plan_implicit_create,
    plan_update,
)
from mappers.identity import (
    LookupKey,
    identity_ref,
    lookup_keys,
    order_contact,
    receipt_contact,
    receipt_contact_by_key,
)
from mappers.loyalty import (
    PromotionAssignmentPlan,
    PromotionRedemptionPlan,
    VoucherRedemptionPlan,
    plan_assignment,
    plan_promotion_redemption,
    plan_voucher_redemption,
    redemption_channel,
)
from mappers.money import spread_discount, spread_discounts, tax_in_gross, to_cents
from mappers.order_journey import OrderMove, order_move
from mappers.orders import OrderPlan, order_plan
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request, unique_receipt_id
from mappers.returns import return_request
from mappers.tracking import cart_update, product_view

__all__ = [
    "BuyerEvent",
    "CreateContactPlan",
    "LookupKey",
    "OrderMove",
    "OrderPlan",
    "PromotionAssignmentPlan",
    "PromotionRedemptionPlan",
    "TenantPolicy",
    "VoucherRedemptionPlan",
    "buyer_store",
    "cart_update",
    "contact_attributes",
    "flatten_attributes",
    "identity_ref",
    "lookup_keys",
    "order_contact",
    "order_move",
    "order_plan",
    "plan_assignment",
    "plan_create",
    "plan_create_from_identity",
    "plan_implicit_create",
    "plan_promotion_redemption",
    "plan_update",
    "plan_voucher_redemption",
    "product_view",
    "receipt_contact",
    "receipt_contact_by_key",
    "receipt_request",
    "redemption_channel",
    "return_request",
    "spread_discount",
    "spread_discounts",
    "tax_in_gross",
    "to_cents",
    "unique_receipt_id",
]
