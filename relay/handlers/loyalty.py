"""promotion.assigned, promotion.redeemed, voucher.redeemed.

- Assigning is not idempotent in Engage (a second call makes a second assignment), so the assignment id
  is remembered, and a retry after a timeout first lists the contact's assignments (Voyado: check with
  a GET before re-sending a POST).
- Redeeming takes the assignment id. An event that names only the promotion (a POS that assigned the
  welcome offer a moment ago) is resolved through the remembered id, else the contact's assignments.
  A second redeem answers "already redeemed", which counts as done.
- Vouchers are redeemed by id; a voucher number is first found in the contact's vouchers.
"""

from __future__ import annotations

from engage.errors import PermanentError, RetryableError
from engage.models import PromotionAssignment
from mappers.loyalty import plan_assignment, plan_promotion_redemption, plan_voucher_redemption
from relay.context import Applied, EventContext
from relay.resolve import contact_ref, resolve_buyer, resolve_contact
from schemas.loyalty import PromotionAssignedEvent, PromotionRedeemedEvent, VoucherRedeemedEvent

VOUCHER_PAGE_SIZE = 100
MAX_VOUCHER_PAGES = 20


class AssignmentNotYetVisible(RetryableError):
    """The promotion is not (yet) assigned to this contact: its assignment may still be on its way."""


class VoucherNumberUnknown(PermanentError):
    """No reward voucher with this number belongs to the contact."""


def _find(assignments: list[PromotionAssignment], promotion_id: str) -> PromotionAssignment | None:
    matching = [a for a in assignments if a.promotion_id == promotion_id]
    open_ones = [a for a in matching if not a.redeemed]
    best = open_ones or matching
    return best[0] if best else None


def apply_assignment(ctx: EventContext, event: PromotionAssignedEvent) -> Applied:
    plan = plan_assignment(event, ctx.tenant.policy)
    ledger = ctx.runtime.ledger
    with ledger.contact_lock(ctx.tenant.name, contact_ref(ctx, plan.customer)):
        contact_id = resolve_contact(ctx, plan.customer, plan.create, implicit=True).contact_id
        if ledger.assignment_for(ctx.tenant.name, contact_id, plan.promotion_id):
            return Applied(contact_id=contact_id, detail="already assigned")
        if ctx.maybe_delivered:
            ctx.called("promotions.list")
            earlier = _find(ctx.client.list_promotion_assignments(contact_id), plan.promotion_id)
            if earlier is not None:
                ledger.remember_assignment(ctx.tenant.name, contact_id, plan.promotion_id, earlier.id)
                return Applied(contact_id=contact_id, detail="assignment found after timeout")
        ctx.called("promotions.assign")
        assignment = ctx.client.assign_promotion(contact_id, plan.promotion_id)
        ledger.remember_assignment(ctx.tenant.name, contact_id, plan.promotion_id, assignment.id)
        return Applied(contact_id=contact_id)


def apply_promotion_redemption(ctx: EventContext, event: PromotionRedeemedEvent) -> Applied:
    plan = plan_promotion_redemption(event, ctx.tenant.policy)
    if plan.assignment_id is not None:
        ctx.called("promotions.redeem")
        ctx.client.redeem_promotion(plan.assignment_id, plan.redemption_channel)
        return Applied(contact_id=plan.customer.contact_id)
    promotion_id = plan.promotion_id
    if promotion_id is None:  # the schema requires one of the two
        raise PermanentError("event names neither an assignment nor a promotion")
    ledger = ctx.runtime.ledger
    with ledger.contact_lock(ctx.tenant.name, contact_ref(ctx, plan.customer)):
        contact_id = resolve_contact(ctx, plan.customer, plan.create, implicit=True).contact_id
        assignment_id = ledger.assignment_for(ctx.tenant.name, contact_id, promotion_id)
        if assignment_id is None:
            ctx.called("promotions.list")
            found = _find(ctx.client.list_promotion_assignments(contact_id), promotion_id)
            if found is None:
                raise AssignmentNotYetVisible("promotion not assigned to this contact (yet)")
            if found.redeemed:
                return Applied(contact_id=contact_id, detail="already redeemed")
            assignment_id = found.id
            ledger.remember_assignment(ctx.tenant.name, contact_id, promotion_id, assignment_id)
    ctx.called("promotions.redeem")
    ctx.client.redeem_promotion(assignment_id, plan.redemption_channel)
    return Applied(contact_id=contact_id)


def apply_voucher_redemption(ctx: EventContext, event: VoucherRedeemedEvent) -> Applied:
    plan = plan_voucher_redemption(event, ctx.tenant.policy)
    voucher_id = plan.voucher_id
    contact_id = plan.customer.contact_id
    if voucher_id is None:
        contact_id = resolve_buyer(ctx, plan.customer, plan.create).contact_id
        voucher_id = _voucher_id_by_number(ctx, contact_id, plan.voucher_number or "")
    ctx.called("vouchers.redeem")
    ctx.client.redeem_reward_voucher(voucher_id)
    return Applied(contact_id=contact_id)


def _voucher_id_by_number(ctx: EventContext, contact_id: str, number: str) -> str:
    for page in range(MAX_VOUCHER_PAGES):
        ctx.called("vouchers.list")
        vouchers = ctx.client.list_reward_vouchers(
            contact_id, offset=page * VOUCHER_PAGE_SIZE, count=VOUCHER_PAGE_SIZE
        )
        for voucher in vouchers.items:
            if voucher.voucher_number == number:
                return voucher.id
        if len(vouchers.items) < VOUCHER_PAGE_SIZE:
            break
    raise VoucherNumberUnknown("no reward voucher with this number for the contact")
