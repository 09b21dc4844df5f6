"""The per-field clock on the file and bulk paths: a contact record never carries a value older than what
any path already sent.

The API path cuts every customer event down to the fields that are newer and changed (relay/ledger.py).
The fallback sweep does the same before it writes a contacts record or a bulk row: an update whose every
field was overtaken is `superseded` (and never written), a create that travels after a newer update sends
only what is still newer. The clock is kept under the contact's GUID when it is known, else under a hash
of the tenant's key (`file_clock_ref`); the API path merges that clock into the GUID's once it learns the
GUID of a contact a file created (relay/resolve.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

from fallback.deadletters import DeadLetter
from fallback.records import CONTACT_TYPES, known_contact_id
from mappers.contacts import CustomerEvent, contact_attributes, flatten_attributes
from mappers.identity import lookup_keys
from relay.ledger import file_clock_ref, plan_fields, seen_at
from relay.runtime import Runtime
from relay.spill.fence import SPILL_HOLDER_PREFIX
from relay.tenants import Tenant
from schemas import InvalidEvent, parse_event
from schemas.customer import CustomerCreatedEvent


@dataclass
class ContactFields:
    """What the sweep may send of each customer letter, and the letters with nothing newer left."""

    send: dict[str, dict[str, Any]] = field(default_factory=dict)  # letter id -> flat fields
    superseded: list[tuple[DeadLetter, str]] = field(default_factory=list)  # (letter, which fields)
    refs: dict[str, tuple[str, Any]] = field(default_factory=dict)  # letter id -> (clock ref, occurred_at)


log = structlog.get_logger(__name__)


def _customer_letters(letters: Iterable[DeadLetter]) -> list[tuple[DeadLetter, CustomerEvent]]:
    decoded: list[tuple[DeadLetter, CustomerEvent]] = []
    for letter in letters:
        if letter.type not in CONTACT_TYPES:
            continue
        try:
            decoded.append((letter, parse_event(dict(letter.envelope))))  # type: ignore[arg-type]
        except InvalidEvent:
            continue  # plan_letters reports it as failed
    return decoded


def fenced_by_files(rt: Runtime, tenant: Tenant, letters: Iterable[DeadLetter]) -> set[str]:
    """The customer letters whose contact an import file still fences (uploaded or not, not yet given its
    grace). The bulk API would apply them at once, before Engage imports that file, whose older values
    would then land over the newer ones (and an update of a contact the file creates would find no one);
    so they go in the next contacts file, which Engage imports after the one in flight (in name order, as
    the contacts file path always relies on). The fences of spilled events do not count: those events are
    in this sweep, planned oldest first with them."""
    fenced: set[str] = set()
    for letter, event in _customer_letters(letters):
        refs = {clock_ref(rt, tenant, event), file_clock_ref(lookup_keys(event.data, tenant.policy))}
        holders = rt.fence.holders(tenant.name, [ref for ref in refs if ref is not None])
        if any(not holder.startswith(SPILL_HOLDER_PREFIX) for holder in holders):
            fenced.add(letter.id)
    return fenced


def plan_contact_fields(
    rt: Runtime, tenant: Tenant, letters: Iterable[DeadLetter], *, resent: frozenset[str] = frozenset()
) -> ContactFields:
    """Oldest first, each against the clock as the letters before it leave it (they go in one file, in
    that order): a newer letter of the same contact overtakes an older one, never the reverse.

    `resent`: letters sent before whose contact Engage did not have (a bulk row answered ContactNotFound);
    the clock already holds their own values, so like a create they carry those again."""
    out = ContactFields()
    decoded = _customer_letters(letters)
    clocks: dict[str, dict[str, tuple[int, str]]] = {}
    for letter, event in sorted(decoded, key=lambda pair: pair[1].occurred_at):
        ref = clock_ref(rt, tenant, event)
        if ref is None:
            continue
        if ref not in clocks:
            clocks[ref] = rt.ledger.field_clock(tenant.name, ref)
        flat = flatten_attributes(contact_attributes(event, tenant.policy))
        plan = plan_fields(clocks[ref], flat, event.occurred_at)
        clocks[ref].update({name: seen_at(event.occurred_at, value) for name, value in plan.send.items()})
        if plan.fully_superseded:
            out.superseded.append((letter, ", ".join(plan.superseded)))
            continue
        kept = dict(plan.send)
        if isinstance(event, CustomerCreatedEvent) or letter.id in resent:  # what it must, if not older
            kept.update({name: flat[name] for name in plan.unchanged})
        out.send[letter.id] = kept
        out.refs[letter.id] = (ref, event.occurred_at)
    return out


def clock_ref(rt: Runtime, tenant: Tenant, event: CustomerEvent) -> str | None:
    contact_id = known_contact_id(rt.contacts, tenant, event.data)
    if contact_id is not None:
        return contact_id
    return file_clock_ref(lookup_keys(event.data, tenant.policy))


def record_sent(rt: Runtime, tenant: Tenant, planned: ContactFields, letter_ids: Iterable[str]) -> None:
    """The fields of these letters went into a file or a bulk batch: they are what Engage gets."""
    for letter_id in letter_ids:
        if letter_id in planned.refs and letter_id in planned.send:
            ref, occurred_at = planned.refs[letter_id]
            rt.ledger.record_fields(tenant.name, ref, planned.send[letter_id], occurred_at)
            log.debug(
                "fallback.clock.recorded", letter=letter_id, ref=ref, fields=sorted(planned.send[letter_id])
            )
