"""customer.created / customer.updated: create the contact, or PATCH only what is newer and changed.

Work on one customer is serialized by the contact lock; each field's clock decides what an update may
still change, so an older event never overwrites a newer value, whatever order events arrive in.
A contact-type change (e.g. Contact -> Member) goes through `updateContactType`, never PATCH.
"""

from __future__ import annotations

from mappers.contacts import (
    CustomerEvent,
    contact_attributes,
    flatten_attributes,
    plan_create,
    plan_update,
)
from mappers.identity import lookup_keys
from relay.context import Applied, EventContext
from relay.ledger import file_clock_ref, plan_fields
from relay.resolve import contact_ref, resolve_contact
from relay.spill.fence import check_fence

CONTACT_TYPE_FIELD = "contactType"


def apply_customer(ctx: EventContext, event: CustomerEvent) -> Applied:
    policy = ctx.tenant.policy
    ledger = ctx.runtime.ledger
    flat = flatten_attributes(contact_attributes(event, policy))
    wanted_type = event.data.contact_type
    with ledger.contact_lock(ctx.tenant.name, contact_ref(ctx, event.data)):
        plan = plan_create(event, policy)
        resolved = resolve_contact(ctx, event.data, plan)
        contact_id = resolved.contact_id
        if resolved.created:
            ledger.record_fields(
                ctx.tenant.name,
                contact_id,
                {**flat, CONTACT_TYPE_FIELD: plan.contact_type},
                event.occurred_at,
            )
            return Applied(contact_id=contact_id)
        # a record of this contact still travelling by file would overwrite what we send now: wait for it
        file_ref = file_clock_ref(lookup_keys(event.data, policy))
        check_fence(
            ctx.runtime.fence,
            ctx.tenant.name,
            [contact_id] + ([file_ref] if file_ref else []),
            ctx.runtime.spill_pending,
        )
        clock = ledger.field_clock(ctx.tenant.name, contact_id)
        fields = plan_fields(clock, flat, event.occurred_at)
        if fields.send:
            ctx.called("contacts.patch")
            ctx.client.update_contact(contact_id, plan_update(fields.send))
        upgraded = False
        if wanted_type is not None:
            type_plan = plan_fields(clock, {CONTACT_TYPE_FIELD: wanted_type}, event.occurred_at)
            if type_plan.send:
                ctx.called("contacts.update_contact_type")
                ctx.client.update_contact_type(contact_id, wanted_type)
                upgraded = True
        recorded = {**fields.send, **{k: flat[k] for k in fields.unchanged}}
        if upgraded:
            recorded[CONTACT_TYPE_FIELD] = wanted_type
        ledger.record_fields(ctx.tenant.name, contact_id, recorded, event.occurred_at)
        if fields.fully_superseded and not upgraded:
            return Applied(
                "superseded", contact_id, detail=f"newer values for {', '.join(fields.superseded)}"
            )
        return Applied(contact_id=contact_id)
