"""Contacts through the bulk API (`POST`/`PATCH /api/v3/contacts/bulk`), for tenants with
``fallback.contacts_via = "bulk"``.

- Rows go in requests of at most ``MAX_BULK_CONTACTS`` (4000), one per operation and contact type:
  creates (customer.created of an unknown contact) by POST, updates by PATCH (``id`` when known).
- Only when Engage answers: with the tenant's breaker open, or when a bulk call fails as retryable or
  systemic, the rows go to the contacts XML file instead (returned to the caller).
- Each row's letter moves to ``written`` with ``fallback_file = "bulk:{batchId}:{row}"``; the batch status
  is polled for at most ``bulk_poll_timeout_s``. A batch not done by then is checked again by the next
  sweep (:func:`settle_open_batches`). Rows with an error become ``failed`` with Engage's row error, but
  for ContactNotFound (an update of a contact Engage does not have yet): that letter goes back to
  ``pending`` for the contacts file, which creates or updates by key. The others are delivered, and the
  GUIDs Engage reports for created rows are stored.
- A contact an import file still fences goes by the next contacts file instead (``fenced_by_files`` in
  relay/spill/clock.py): that file, imported after a bulk row, would overwrite what the row sent.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Final

import structlog

from engage.client import EngageClient
from engage.errors import DeferredError, PermanentError, RetryableError, SystemicError
from engage.models.contacts import BulkStatus
from fallback.deadletters import BULK_REF_PREFIX, DeadLetter, DeadLetterFilter
from fallback.records import CONTACT_NOT_IN_ENGAGE, BulkOperation, BulkRow, FileRecord
from relay.runtime import Runtime
from relay.spill.letters import (
    FileHooks,
    contact_keys,
    deliver,
    fail,
    letters_of,
    remember_created,
    set_state,
)
from relay.tenants import Tenant

log = structlog.get_logger("relay.spill")

MAX_BULK_CONTACTS: Final = 4000
BULK_POLL_TIMEOUT_S: Final = 30.0
BULK_POLL_INTERVAL_S: Final = 1.0
BULK_KIND: Final = "contacts-bulk"
NOT_FOUND_CODE: Final = "ContactNotFound"  # a row's contact is not in Engage (yet): it goes by file instead


def bulk_ref(batch_id: str, row: int) -> str:
    return f"{BULK_REF_PREFIX}{batch_id}:{row}"


def parse_bulk_ref(ref: str | None) -> tuple[str, int] | None:
    if not ref or not ref.startswith(BULK_REF_PREFIX):
        return None
    batch_id, _, row = ref[len(BULK_REF_PREFIX) :].rpartition(":")
    return (batch_id, int(row)) if batch_id and row.isdigit() else None


def send_bulk(
    rt: Runtime,
    tenant: Tenant,
    rows: Sequence[BulkRow],
    hooks: FileHooks,
    *,
    poll_timeout_s: float = BULK_POLL_TIMEOUT_S,
    poll_interval_s: float = BULK_POLL_INTERVAL_S,
) -> list[FileRecord]:
    """Send the rows; returns the ones that must go by contacts XML file instead."""
    if not rows:
        return []
    if rt.circuit.state(tenant.name) == "open":
        log.info("fallback.bulk.skipped", tenant=tenant.name, reason="breaker open", rows=len(rows))
        return [r.file_record for r in rows]
    client = rt.client_for(tenant)
    groups: dict[tuple[BulkOperation, str | None], list[BulkRow]] = defaultdict(list)
    for row in rows:
        groups[(row.operation, row.contact_type)].append(row)
    to_files: list[FileRecord] = []
    started: list[str] = []
    for (operation, contact_type), items in groups.items():
        for first in range(0, len(items), MAX_BULK_CONTACTS):
            chunk = items[first : first + MAX_BULK_CONTACTS]
            if to_files:  # Engage stopped answering: the rest goes by file too
                to_files += [r.file_record for r in chunk]
                continue
            batch_id = _start_batch(rt, tenant, client, operation, contact_type, chunk)
            if batch_id is None:
                to_files += [r.file_record for r in chunk]
            elif batch_id:
                hooks.written(tenant.name, BULK_KIND)
                started.append(batch_id)
    deadline = time.monotonic() + poll_timeout_s
    for batch_id in started:
        _settle(
            rt, tenant, client, batch_id, _letters_of(rt, tenant, batch_id), hooks, deadline, poll_interval_s
        )
    return to_files


def _start_batch(
    rt: Runtime,
    tenant: Tenant,
    client: EngageClient,
    operation: BulkOperation,
    contact_type: str | None,
    chunk: Sequence[BulkRow],
) -> str | None:
    """The batch id; None when Engage did not answer (send by file); "" when it refused the batch."""
    body = [r.row for r in chunk]
    try:
        if operation == "create":
            batch_id = client.bulk_create_contacts(body, contact_type)
        else:
            batch_id = client.bulk_update_contacts(body, contact_type)
    except (RetryableError, DeferredError, SystemicError) as exc:
        log.warning("fallback.bulk.unavailable", tenant=tenant.name, **exc.log_fields())
        return None
    except PermanentError as exc:
        for r in chunk:
            fail(rt, r.file_record.letter, f"bulk {operation} refused: {exc}", error_code=exc.error_code)
        return ""
    for index, r in enumerate(chunk):
        set_state(rt, r.file_record.letter.id, "written", file=bulk_ref(batch_id, index))
    log.info("fallback.bulk.sent", tenant=tenant.name, batch_id=batch_id, rows=len(chunk))
    return batch_id


def settle_open_batches(
    rt: Runtime, tenant: Tenant, hooks: FileHooks, *, poll_timeout_s: float = 0.0
) -> None:
    """Check the batches an earlier sweep sent and did not see finish."""
    open_batches: set[str] = set()
    for letter in letters_of(rt).list(DeadLetterFilter(tenant=tenant.name, fallback_state="written")):
        ref = parse_bulk_ref(letter.fallback_file)
        if ref is not None:
            open_batches.add(ref[0])
    if not open_batches:
        return
    client = rt.client_for(tenant)
    deadline = time.monotonic() + poll_timeout_s
    for batch_id in sorted(open_batches):
        _settle(rt, tenant, client, batch_id, _letters_of(rt, tenant, batch_id), hooks, deadline, 0.5)


def _letters_of(rt: Runtime, tenant: Tenant, batch_id: str) -> dict[int, DeadLetter]:
    found: dict[int, DeadLetter] = {}
    for letter in letters_of(rt).list(DeadLetterFilter(tenant=tenant.name, fallback_state="written")):
        ref = parse_bulk_ref(letter.fallback_file)
        if ref is not None and ref[0] == batch_id:
            found[ref[1]] = letter
    return found


def _settle(
    rt: Runtime,
    tenant: Tenant,
    client: EngageClient,
    batch_id: str,
    letters: dict[int, DeadLetter],
    hooks: FileHooks,
    deadline: float,
    interval_s: float,
) -> None:
    try:
        status = client.bulk_status(batch_id)
        while not status.done and time.monotonic() + interval_s <= deadline:
            time.sleep(interval_s)
            status = client.bulk_status(batch_id)
    except (RetryableError, DeferredError, SystemicError) as exc:
        log.warning(
            "fallback.bulk.status_unavailable", tenant=tenant.name, batch_id=batch_id, **exc.log_fields()
        )
        return
    except PermanentError as exc:  # Engage forgot the batch: send its rows again
        log.warning("fallback.bulk.batch_lost", tenant=tenant.name, batch_id=batch_id, **exc.log_fields())
        for letter in letters.values():
            set_state(rt, letter.id, "pending", only_from=("written",))
        return
    if not status.done:
        log.info("fallback.bulk.still_running", tenant=tenant.name, batch_id=batch_id, status=status.status)
        return
    _apply_status(rt, tenant, status, letters)
    hooks.uploaded(tenant.name, BULK_KIND)


def _apply_status(rt: Runtime, tenant: Tenant, status: BulkStatus, letters: dict[int, DeadLetter]) -> None:
    errors = {e.index: e for e in status.errors if e.index is not None}
    whole_batch_failed = status.status.casefold() == "failed" and not errors
    for row, letter in sorted(letters.items()):
        error = errors.get(row)
        if error is not None and error.error_code == NOT_FOUND_CODE:
            log.info("fallback.bulk.contact_not_found", letter=letter.id, batch_id=status.batch_id)
            set_state(rt, letter.id, "pending", file=CONTACT_NOT_IN_ENGAGE, only_from=("written",))
            continue
        if whole_batch_failed or error is not None:
            code = error.error_code if error is not None else None
            message = (error.message if error is not None else None) or status.status
            fail(
                rt,
                letter,
                f"bulk row {row} of batch {status.batch_id}: {code or 'error'}: {message}",
                error_code=code,
            )
            continue
        created = status.created_contact_ids.get(str(row))
        remember_created(rt, tenant, contact_keys(letter, tenant), created)
        deliver(
            rt,
            letter.id,
            bulk_ref(status.batch_id, row),
            f"bulk API batch {status.batch_id}",
            contact_id=created,
        )
    log.info(
        "fallback.bulk.settled",
        tenant=tenant.name,
        batch_id=status.batch_id,
        succeeded=status.succeeded,
        failed=status.failed,
    )
