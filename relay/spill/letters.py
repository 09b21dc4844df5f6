"""What the fallback sweep does to one dead letter: move its fallback_state, record its delivery outcome,
and tell the contact-id store about a contact that Engage creates without telling us its GUID.

Every function reads the letter back from the store first: a letter replayed or dropped meanwhile is
left alone, and marking a letter twice (after a crash) records its outcome only once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog

from fallback.deadletters import DeadLetter, FallbackState
from mappers.identity import LookupKey, lookup_keys
from relay.outcomes import Outcome
from relay.runtime import FileHooks, Runtime
from relay.settle import MAX_DETAIL_CHARS
from relay.tenants import Tenant
from schemas import InvalidEvent, parse_event

log = structlog.get_logger("relay.spill")

__all__ = ["FileHooks", "contact_keys", "deliver", "fail", "remember_created", "set_state"]


def set_state(
    rt: Runtime,
    letter_id: str,
    state: FallbackState,
    *,
    file: str | None = None,
    message: str | None = None,
    error_code: str | None = None,
    only_from: Iterable[FallbackState] | None = None,
) -> DeadLetter | None:
    """Move one letter to ``state`` (when it is in one of ``only_from``); the updated letter or None."""
    letter = rt.deadletters.get(letter_id)
    if letter is None or (only_from is not None and letter.fallback_state not in set(only_from)):
        return None
    update: dict[str, Any] = {"fallback_state": state, "fallback_file": file}
    if message is not None:
        update["message"] = message[:MAX_DETAIL_CHARS]
    if error_code is not None:
        update["engage_error_code"] = error_code
    changed = letter.model_copy(update=update)
    rt.deadletters.update(changed)
    return changed


def fail(rt: Runtime, letter: DeadLetter, reason: str, *, error_code: str | None = None) -> None:
    log.error("fallback.letter.failed", letter=letter.id, event_type=letter.type, reason=reason[:200])
    set_state(rt, letter.id, "failed", file=letter.fallback_file, message=reason, error_code=error_code)


def deliver(rt: Runtime, letter_id: str, ref: str, detail: str, *, contact_id: str | None = None) -> bool:
    """Record the outcome ``delivered_by_file`` and mark the letter (``fallback_file = ref``, the file name
    or bulk reference); False when it was done already."""
    letter = rt.deadletters.get(letter_id)
    if letter is None or letter.fallback_state == "delivered_by_file":
        return False
    rt.outcomes.record(
        Outcome(
            event_id=letter.event_id,
            type=letter.type,
            tenant=letter.tenant,
            outcome="delivered_by_file",
            contact_id=contact_id,
            detail=detail,
            attempts=max(letter.attempts, 1),
        )
    )
    rt.deadletters.update(
        letter.model_copy(update={"fallback_state": "delivered_by_file", "fallback_file": ref})
    )
    return True


def contact_keys(letter: DeadLetter, tenant: Tenant) -> list[LookupKey]:
    """The keys (not contactId) by which the letter's customer is found; empty if it does not decode."""
    try:
        event: Any = parse_event(dict(letter.envelope))
    except InvalidEvent:
        return []
    identity = getattr(event.data, "customer", event.data)
    return [k for k in lookup_keys(identity, tenant.policy) if k.kind != "contactId"]


def remember_created(rt: Runtime, tenant: Tenant, keys: Iterable[LookupKey], contact_id: str | None) -> None:
    """A file or bulk batch creates (or updates) the contact: store its GUID when Engage told us, else mark
    each key "created by file" so the next event looks the contact up (never over a known GUID)."""
    for key in keys:
        if contact_id is not None:
            rt.contacts.put(tenant.name, key.kind, key.value, contact_id)
            continue
        ref = rt.contacts.get(tenant.name, key.kind, key.value)
        if ref is None or not ref.contact_id:
            rt.contacts.mark_created_by_file(tenant.name, key.kind, key.value)
