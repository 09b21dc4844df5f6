"""Typed Engage v3 request and response models.

Public:
- bases: ``RequestModel`` (``extra="forbid"``, ``to_wire()``), ``ResponseModel`` (``extra="ignore"``),
  ``Money``;
- contacts: ``Contact``, ``ContactMeta``, ``BulkStatus``, ``BulkRowError``, ``ContactOverview``,
  ``MAX_BULK_CONTACTS``;
- receipts: ``ReceiptRequest``, ``ReceiptContact``, ``ReceiptItem``, ``PaymentMethod``, ``TaxDetail``,
  ``Discount``, ``UsedPromotion``, ``UsedBonusCheck``, ``ExtraData``;
- orders: ``OrderRequest``, ``OrderContact``, ``OrderLineItem``, ``OrderLineItems``, ``OrderDelivery``,
  ``OrderJob``, ``Order``, ``OrderActionRequest``, ``OrderEmbeddedAction``, ``OrderStatusChange``;
- match keys: ``MATCH_KEY_TYPES`` (the one list of receipt/order matchKeyTypes),
  ``canonical_match_key_type``, ``match_key_type_pattern``;
- loyalty: ``PromotionAssignment``, ``PromotionAssignmentRequest``, ``PromotionRedeemRequest``,
  ``RedemptionChannel``, ``RewardVoucher``, ``VoucherPage``, ``VoucherValue``;
- stores: ``Store``;
- tracking: ``ProductView``, ``CartUpdate``, ``CartItem``.
"""

from __future__ import annotations

from engage.models.base import Money, RequestModel, ResponseModel
from engage.models.contacts import (
    MAX_BULK_CONTACTS,
    BulkRowError,
    BulkStatus,
    Contact,
    ContactMeta,
    ContactOverview,
)
from engage.models.loyalty import (
    PromotionAssignment,
    PromotionAssignmentRequest,
    PromotionRedeemRequest,
    PromotionRedemptionChannel,
    RedemptionChannel,
    RewardVoucher,
    VoucherPage,
    VoucherValue,
)
from engage.models.match_keys import (
    MATCH_KEY_TYPES,
    canonical_match_key_type,
    match_key_type_pattern,
)
from engage.models.orders import (
    Order,
    OrderActionRequest,
    OrderContact,
    OrderDelivery,
    OrderEmbeddedAction,
    OrderJob,
    OrderLineItem,
    OrderLineItems,
    OrderRequest,
    OrderStatusChange,
)
from engage.models.receipts import (
    Discount,
    ExtraData,
    PaymentMethod,
    ReceiptContact,
    ReceiptItem,
    ReceiptRequest,
    TaxDetail,
    UsedBonusCheck,
    UsedPromotion,
)
from engage.models.stores import Store
from engage.models.tracking import CartItem, CartUpdate, ProductView

__all__ = [
    "MATCH_KEY_TYPES",
    "MAX_BULK_CONTACTS",
    "BulkRowError",
    "BulkStatus",
    "CartItem",
    "CartUpdate",
    "Contact",
    "ContactMeta",
    "ContactOverview",
    "Discount",
    "ExtraData",
    "Money",
    "Order",
    "OrderActionRequest",
    "OrderContact",
    "OrderDelivery",
    "OrderEmbeddedAction",
    "OrderJob",
    "OrderLineItem",
    "OrderLineItems",
    "OrderRequest",
    "OrderStatusChange",
    "PaymentMethod",
    "ProductView",
    "PromotionAssignment",
    "PromotionAssignmentRequest",
    "PromotionRedeemRequest",
    "PromotionRedemptionChannel",
    "ReceiptContact",
    "ReceiptItem",
    "ReceiptRequest",
    "RedemptionChannel",
    "RequestModel",
    "ResponseModel",
    "RewardVoucher",
    "Store",
    "TaxDetail",
    "UsedBonusCheck",
    "UsedPromotion",
    "VoucherPage",
    "VoucherValue",
    "canonical_match_key_type",
    "match_key_type_pattern",
]
