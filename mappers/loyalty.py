"""promotion.assigned / promotion.redeemed / voucher.redeemed -> plans for the loyalty calls (pure values).

The API handler and the file record builder both read these plans instead of the event's data. Each plan
carries the buyer (`customer`, and `create`: the contact to make when Engage does not know them,
`mappers.contacts.plan_implicit_create`) and what to call:

- `plan_assignment` -> `PromotionAssignmentPlan`: `POST /api/v3/promotion-assignments` with
  `request(contact_id)` (`PromotionAssignmentRequest(contactId, promotionId)`), once the buyer is resolved.
- `plan_promotion_redemption` -> `PromotionRedemptionPlan`:
  `POST /api/v3/promotion-assignments/{assignment_id}/redeem` with `body` (the channel). When the event
  names only the template (`promotion_id`; `needs_contact`), the caller resolves the buyer and finds the
  contact's unredeemed assignment of it (`GET /promotion-assignments?contactId=`) first.
- `plan_voucher_redemption` -> `VoucherRedemptionPlan`: `POST /api/v3/reward-vouchers/{voucher_id}/redeem`
  (no body). When the event names only the voucher number (`needs_contact`), the caller resolves the buyer
  and finds the voucher's id among the contact's vouchers.

`redeemed_at` is the event's `occurred_at` (with its offset); `order_id` / `receipt_id` name the purchase
the offer or voucher was used in, for the outcome record. The redemption channel is the event's, else
derived from the source (the envelope's, else the tenant's): POS -> POS, ECOM -> ECOM, anything else ->
OTHER.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from engage.models import PromotionAssignmentRequest, PromotionRedeemRequest, RedemptionChannel
from mappers.contacts import CreateContactPlan, plan_implicit_create
from mappers.policy import TenantPolicy
from schemas.fields import AwareDatetime
from schemas.identity import CustomerIdentity
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.loyalty import RedemptionChannel as EventChannel

CHANNEL_BY_SOURCE: Final[dict[str, RedemptionChannel]] = {"pos": "POS", "ecom": "ECOM"}
OTHER_CHANNEL: Final[RedemptionChannel] = "OTHER"
CHANNEL_BY_NAME: Final[dict[EventChannel, RedemptionChannel]] = {
    EventChannel.ECOM: "ECOM",
    EventChannel.POS: "POS",
    EventChannel.OTHER: "OTHER",
}


@dataclass(frozen=True)
class PromotionAssignmentPlan:
    """Assign the promotion template `promotion_id` to the buyer."""

    customer: CustomerIdentity
    create: CreateContactPlan
    promotion_id: str

    def request(self, contact_id: str) -> PromotionAssignmentRequest:
        """The assignment body for the resolved buyer."""
        return PromotionAssignmentRequest(contact_id=contact_id, promotion_id=self.promotion_id)


@dataclass(frozen=True)
class PromotionRedemptionPlan:
    """Redeem one assignment: `assignment_id`, else the buyer's unredeemed assignment of `promotion_id`."""

    customer: CustomerIdentity
    create: CreateContactPlan
    assignment_id: str | None
    promotion_id: str | None
    redemption_channel: RedemptionChannel
    redeemed_at: AwareDatetime
    order_id: str | None
    receipt_id: str | None

    @property
    def needs_contact(self) -> bool:
        """True when the assignment must be found among the resolved buyer's assignments."""
        return self.assignment_id is None

    @property
    def body(self) -> PromotionRedeemRequest:
        return PromotionRedeemRequest(redemption_channel=self.redemption_channel)


@dataclass(frozen=True)
class VoucherRedemptionPlan:
    """Redeem one reward voucher: `voucher_id`, else the buyer's voucher numbered `voucher_number`."""

    customer: CustomerIdentity
    create: CreateContactPlan
    voucher_id: str | None
    voucher_number: str | None
    redemption_channel: RedemptionChannel
    redeemed_at: AwareDatetime
    order_id: str | None
    receipt_id: str | None

    @property
    def needs_contact(self) -> bool:
        """True when the voucher's id must be found among the resolved buyer's vouchers."""
        return self.voucher_id is None


def redemption_channel(given: EventChannel | None, source: str) -> RedemptionChannel:
    """The event's channel, else POS for source POS, ECOM for source ECOM, else OTHER."""
    if given is not None:
        return CHANNEL_BY_NAME[given]
    return CHANNEL_BY_SOURCE.get(source.casefold(), OTHER_CHANNEL)


def plan_assignment(event: PromotionAssignedEvent, policy: TenantPolicy) -> PromotionAssignmentPlan:
    data = event.data
    return PromotionAssignmentPlan(
        customer=data.customer, create=plan_implicit_create(event, policy), promotion_id=data.promotion_id
    )


def plan_promotion_redemption(event: PromotionRedeemedEvent, policy: TenantPolicy) -> PromotionRedemptionPlan:
    data = event.data
    return PromotionRedemptionPlan(
        customer=data.customer,
        create=plan_implicit_create(event, policy),
        assignment_id=data.assignment_id,
        promotion_id=data.promotion_id,
        redemption_channel=redemption_channel(data.redemption_channel, event.source or policy.source),
        redeemed_at=event.occurred_at,
        order_id=data.order_id,
        receipt_id=data.receipt_id,
    )


def plan_voucher_redemption(event: VoucherRedeemedEvent, policy: TenantPolicy) -> VoucherRedemptionPlan:
    data = event.data
    return VoucherRedemptionPlan(
        customer=data.customer,
        create=plan_implicit_create(event, policy),
        voucher_id=data.voucher_id,
        voucher_number=data.voucher_number,
        redemption_channel=redemption_channel(data.redemption_channel, event.source or policy.source),
        redeemed_at=event.occurred_at,
        order_id=data.order_id,
        receipt_id=data.receipt_id,
    )
