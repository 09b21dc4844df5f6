"""What the fallback sweep does to one dead letter: move its fallback_state, record its delivery outcome,
and tell the contact-id store about a contact that Engage creates without telling us its GUID.

Every function reads the letter back from the store first: a letter replayed or dropped meanwhile is
left alone, and marking a letter twice (after a crash) records its outcome only once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import structlog

from fallback.deadletters import DeadLetter, DeadLetterFilter, DeadLetterStore, FallbackState
from mappers.identity import LookupKey, lookup_keys
from relay.ledger import file_clock_ref
from relay.outcomes import Outcome
from relay.run import job_for
from relay.runtime import FileHooks, Runtime
from relay.settle import MAX_DETAIL_CHARS, write_final
from relay.spill.fence import spill_holder
from relay.tenants import Tenant
from schemas import InvalidEvent, parse_event

log = structlog.get_logger("relay.spill")

__all__ = [
    "FileHooks",
    "Letters",
    "contact_keys",
    "deliver",
    "fail",
    "letters_of",
    "remember_created",
    "set_state",
    "supersede",
]


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
    store = letters_of(rt)
    letter = store.get(letter_id)
    if letter is None or (only_from is not None and letter.fallback_state not in set(only_from)):
        return None
    update: dict[str, Any] = {"fallback_state": state, "fallback_file": file}
    if message is not None:
        update["message"] = message[:MAX_DETAIL_CHARS]
    if error_code is not None:
        update["engage_error_code"] = error_code
    changed = letter.model_copy(update=update)
    store.update(changed)
    return changed


def fail(rt: Runtime, letter: DeadLetter, reason: str, *, error_code: str | None = None) -> None:
    log.error("fallback.letter.failed", letter=letter.id, event_type=letter.type, reason=reason[:200])
    rt.fence.uploaded(letter.tenant, spill_holder(letter.event_id), 0)
    set_state(rt, letter.id, "failed", file=letter.fallback_file, message=reason, error_code=error_code)


def deliver(rt: Runtime, letter_id: str, ref: str, detail: str, *, contact_id: str | None = None) -> bool:
    """Record the final outcome ``delivered_by_file`` (with the event's settled marker, so a copy of it is
    a duplicate) and mark the letter (``fallback_file = ref``, the file name or bulk reference); False when
    it was done already. The marker is checked first, so a crash between the two writes never records a
    second outcome."""
    store = letters_of(rt)
    letter = store.get(letter_id)
    if letter is None or letter.fallback_state == "delivered_by_file":
        return False
    outcome = Outcome(
        event_id=letter.event_id,
        type=letter.type,
        tenant=letter.tenant,
        outcome="delivered_by_file",
        contact_id=contact_id,
        detail=detail,
        attempts=max(letter.attempts, 1),
    )
    write_final(rt, job_for(letter.envelope, attempt=letter.attempts), outcome)
    rt.fence.uploaded(letter.tenant, spill_holder(letter.event_id), 0)
    store.update(letter.model_copy(update={"fallback_state": "delivered_by_file", "fallback_file": ref}))
    _forget_spilled(rt, letter)
    return True


def supersede(rt: Runtime, letter: DeadLetter, detail: str) -> None:
    """A customer letter whose every field was overtaken by a newer value: it ends `superseded`, unwritten."""
    store = letters_of(rt)
    outcome = Outcome(
        event_id=letter.event_id,
        type=letter.type,
        tenant=letter.tenant,
        outcome="superseded",
        detail=detail[:MAX_DETAIL_CHARS],
        attempts=max(letter.attempts, 1),
    )
    write_final(rt, job_for(letter.envelope, attempt=letter.attempts), outcome)
    rt.fence.uploaded(letter.tenant, spill_holder(letter.event_id), 0)
    store.update(letter.model_copy(update={"fallback_state": "superseded", "message": detail}))
    _forget_spilled(rt, letter)


def _forget_spilled(rt: Runtime, letter: DeadLetter) -> None:
    """A spilled event that ended leaves the spill store (its envelope is personal data); its outcome and
    trail remain. A dead letter stays until an operator replays or drops it."""
    if rt.spill is not None:
        rt.spill.drop(letter.id)


class Letters:
    """The dead letters and the spilled events as one store, for the sweep: both go to files the same way."""

    def __init__(self, primary: DeadLetterStore, spill: DeadLetterStore | None) -> None:
        self._stores = [primary] if spill is None else [primary, spill]

    def add(self, letter: DeadLetter) -> str:
        return self._stores[0].add(letter)

    def get(self, letter_id: str) -> DeadLetter | None:
        for store in self._stores:
            found = store.get(letter_id)
            if found is not None:
                return found
        return None

    def update(self, letter: DeadLetter) -> None:
        for store in self._stores:
            if store.get(letter.id) is not None:
                store.update(letter)
                return

    def list(self, where: DeadLetterFilter | None = None) -> Iterator[DeadLetter]:
        for store in self._stores:
            yield from store.list(where)

    def drop(self, letter_id: str) -> bool:
        return any([store.drop(letter_id) for store in self._stores])

    def count(self) -> int:
        return sum(store.count() for store in self._stores)


def letters_of(rt: Runtime) -> Letters:
    return Letters(rt.deadletters, rt.spill)


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
    keys = list(keys)
    if contact_id is not None:
        file_ref = file_clock_ref(keys)
        if file_ref is not None:  # what the file path sent before the GUID was known is now the GUID's
            rt.ledger.merge_clock(tenant.name, file_ref, contact_id)
            log.debug("relay.clock.merged", from_ref=file_ref, into=contact_id)
    for key in keys:
        if contact_id is not None:
            rt.contacts.put(tenant.name, key.kind, key.value, contact_id)
            continue
        ref = rt.contacts.get(tenant.name, key.kind, key.value)
        if ref is None or not ref.contact_id:
            rt.contacts.mark_created_by_file(tenant.name, key.kind, key.value)
