"""Resolving the contact an event is about: the contact-id store first, then Engage (look up, create).

The guides' rule: look the customer up, create when not found, and keep the contactId so later events
need no lookup. In steady state an event costs no resolution call at all.

- A contactId the event carries is trusted (no call).
- A hit in the contact-id store under any of the event's keys costs nothing.
- A key marked "created by file" (an XML import created the contact; its GUID is unknown) is looked up,
  and the GUID found is stored.
- 404 ContactNotFound -> create. 409 (key exists / being created) -> look up again; if the contact is
  still not visible, the event is retried later (ContactBeingCreated is retryable).
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from engage.errors import ContactKeyTaken, RetryableError, ValidationFailed
from mappers.contacts import CreateContactPlan
from mappers.identity import LOOKUP_KIND, Identity, LookupKey, identity_ref, lookup_keys
from relay.context import EventContext
from relay.errors import IdentityConflict
from relay.ledger import file_clock_ref
from relay.spill.fence import check_fence
from schemas.identity import CustomerIdentity

log = structlog.get_logger(__name__)

LOOKUP_PARAM: dict[str, str] = {
    "email": "email",
    "mobilePhone": "mobile_phone",
    "socialSecurityNumber": "social_security_number",
    "customKey": "custom_key",
}


class ContactNotCreatableYet(RetryableError):
    """A purchase or offer names a customer Engage does not know, by identifiers that are not enough to
    create a contact (the tenant's mandatory fields are missing). The customer's own sign-up event is
    most likely still on its way, so the event is retried; once the ladder is exhausted it goes to the
    file fallback, which matches the customer by key when Engage applies it."""


@dataclass(frozen=True)
class Resolved:
    contact_id: str
    created: bool = False


@dataclass(frozen=True)
class Lookup:
    """What is known of an event's customer before (or after) asking Engage."""

    contact_id: str | None  # the GUID the event carries, the store holds, or Engage found
    keys: list[LookupKey]  # the event's keys, the tenant's contact key first
    created_by_file: bool = False  # a key was sent by import file and Engage has not told us its GUID
    other_owner: tuple[str, str] | None = None  # (kind, contactId): another identifier's known contact


def known_contact(ctx: EventContext, identity: Identity) -> Lookup:
    """The contactId the event carries or the contact-id store holds: no Engage call.

    The tenant's contact key decides who the person is: when the event carries it, only the key's entry
    names the contact; another identifier remembered for a different contact makes an `IdentityConflict`
    (raised here when the key's contact is known, or by `find_contact` once Engage has answered).
    """
    keys = lookup_keys(identity, ctx.tenant.policy)
    if keys and keys[0].kind == "contactId":
        _remember(ctx, keys[1:], keys[0].value)
        return Lookup(keys[0].value, keys)
    store = ctx.runtime.contacts
    refs = [store.get(ctx.tenant.name, key.kind, key.value) for key in keys]
    created_by_file = any(ref is not None and ref.pending_file for ref in refs)
    if not keys or keys[0].kind != LOOKUP_KIND[ctx.tenant.policy.contact_key]:
        # No tenant key in the event (a member number at the till): the first identifier known wins.
        for ref in refs:
            if ref is not None and ref.contact_id:
                return Lookup(ref.contact_id, keys)
        return Lookup(None, keys, created_by_file)
    by_key = refs[0].contact_id if refs[0] is not None else None
    other = next(
        (
            (key.kind, ref.contact_id)
            for key, ref in zip(keys[1:], refs[1:], strict=True)
            if ref is not None and ref.contact_id and ref.contact_id != by_key
        ),
        None,
    )
    if by_key is not None and other is not None:
        raise IdentityConflict(by_key, other[1], other[0])
    return Lookup(by_key, keys, created_by_file, other)


def find_contact(ctx: EventContext, identity: Identity) -> Lookup:
    """The contactId (or None) without creating: the store first, then Engage by the tenant's key."""
    known = known_contact(ctx, identity)
    if known.contact_id is not None:
        return known
    found = _lookup(ctx, known.keys[0])
    if known.other_owner is not None and found != known.other_owner[1]:
        # The key finds no one, or someone else, while another identifier belongs to a known contact.
        raise IdentityConflict(found, known.other_owner[1], known.other_owner[0])
    if found is not None:
        _remember(ctx, known.keys, found)
    return Lookup(found, known.keys, known.created_by_file)


def resolve_contact(
    ctx: EventContext, identity: Identity, plan: CreateContactPlan, *, implicit: bool = False
) -> Resolved:
    """The contactId for `identity`, creating the contact from `plan` when Engage has none.

    `implicit`: the plan is made from a non-customer event's identifiers (`plan_implicit_create`); Engage
    refusing it as incomplete then means "wait for the sign-up", not "reject the purchase".
    """
    lookup = find_contact(ctx, identity)
    keys = lookup.keys
    if lookup.contact_id is not None:
        return Resolved(lookup.contact_id)
    if lookup.created_by_file:
        # An import file will create it; creating it here too could make a second contact. Wait while the
        # file travels (the fence); once it was uploaded and given time, Engage lacking the contact means the
        # file did not create it, and the API path does.
        file_ref = file_clock_ref(keys)
        check_fence(
            ctx.runtime.fence, ctx.tenant.name, [file_ref] if file_ref else [], ctx.runtime.spill_pending
        )
    try:
        ctx.called("contacts.create")
        contact = ctx.client.create_contact(
            plan.body,
            source=plan.source,
            store_external_id=plan.store_external_id,
            create_as_unapproved=plan.create_as_unapproved,
        )
    except ValidationFailed as exc:
        if not implicit:
            raise
        raise ContactNotCreatableYet(
            "identifiers alone cannot create this contact",
            status=exc.status,
            error_code=exc.error_code,
            method=exc.method,
            path=exc.path,
        ) from None
    except ContactKeyTaken:
        found = _lookup(ctx, keys[0])
        if found is None:
            raise
        _remember(ctx, keys, found)
        return Resolved(found)
    _remember(ctx, keys, contact.id)
    return Resolved(contact.id, created=True)


def resolve_buyer(ctx: EventContext, identity: CustomerIdentity, create: CreateContactPlan) -> Resolved:
    """The customer of a purchase, order or offer: resolved (or created from `create`, the mapper's
    `plan_implicit_create`) while holding the customer's lock, so two events about one new customer never
    both create it. A customer the store already knows needs neither the lock nor a call."""
    known = known_contact(ctx, identity).contact_id
    if known is not None:
        return Resolved(known)
    with ctx.runtime.ledger.contact_lock(ctx.tenant.name, contact_ref(ctx, identity)):
        return resolve_contact(ctx, identity, create, implicit=True)


def contact_ref(ctx: EventContext, identity: Identity) -> str:
    """What the customer's lock is named by: the tenant's key (hashed by the ledger, never stored as is)."""
    ref = identity_ref(identity, ctx.tenant.policy)
    return f"{ref.kind}:{ref.value}"


def _lookup(ctx: EventContext, key: LookupKey) -> str | None:
    ctx.called("contacts.lookup")
    return ctx.client.lookup_contact(**{LOOKUP_PARAM[key.kind]: key.value})


def _remember(ctx: EventContext, keys: list[LookupKey], contact_id: str) -> None:
    """Remember the contact under the event's identifiers; never one that already belongs to another
    contact (a shared phone, a reused member number): that one keeps its owner."""
    store = ctx.runtime.contacts
    learned = False
    for key in keys:
        if key.kind == "contactId":
            continue
        owner = store.remember(ctx.tenant.name, key.kind, key.value, contact_id)
        if owner is None:
            learned = True
        elif owner != contact_id:
            log.warning("engage.identity.kept", identifier=key.kind, detail="belongs to another contact")
    file_ref = file_clock_ref(keys)
    # what the file path sent while the GUID was unknown (kept under the key's hash) is now the GUID's
    if (
        learned
        and file_ref is not None
        and ctx.runtime.ledger.merge_clock(ctx.tenant.name, file_ref, contact_id)
    ):
        log.debug("relay.clock.merged", from_ref=file_ref, into=contact_id)
