"""The fallback sweep of one tenant: its pending dead letters to import files or the bulk API, and its
outbox files to Voyado's file server. Nothing is lost: every step is persisted before the next.

One sweep, under the tenant's sweep lock (fallback/sweep_lock.py; another sweeper -> ``busy``):

1. repair: outbox sidecars left ``writing`` by a crash, files uploaded but not yet recorded (finished
   now), ``ready`` files whose letters are still ``pending`` (marked ``written`` now, so they are never
   written twice), ``ready`` sidecars whose file vanished (their letters go back to ``pending``);
2. bulk batches sent by an earlier sweep and not seen finished are checked (relay/spill/bulk.py);
3. pending letters are planned (fallback/records.py): no file channel -> ``not_applicable``;
   contacts by bulk API when the tenant says so (else, or when Engage does not answer, or the bulk API
   found no such contact, or an import file in flight still fences the contact, the contacts file);
   transactions by matchKeyType; redemptions;
4. files of at most ``max_records_per_file`` records are written to the outbox, letters -> ``written``;
   contacts without a known GUID are marked "created by file" in the contact-id store;
5. every due file is validated and uploaded; a verified upload records ``delivered_by_file`` for each
   of its events and moves the letters to ``delivered_by_file``.

A crash between two steps may at worst send a record twice: Engage ignores a repeated uniqueReceiptId,
contacts are upserts, and a second redemption of a redeemed promotion or voucher is ignored.
A tenant with transport "none" keeps its file-bound letters pending (contacts may still go by bulk API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetterFilter
from fallback.file_sequence import PROCESS_FILE_SEQUENCE, FileSequence, RedisFileSequence
from fallback.outbox import Clock, Outbox, OutboxEntry, utc_now
from fallback.records import CONTACT_NOT_IN_ENGAGE, NO_FILE_CHANNEL, FileRecord, plan_letters
from fallback.sweep_lock import MemorySweepLock, RedisSweepLock, SweepLock
from fallback.uploaders import Uploader, uploader_for
from fallback.xmlfiles import MAX_RECORDS_PER_FILE, RecordError, XmlBatchWriter
from relay.ledger import file_clock_ref
from relay.runtime import Runtime
from relay.spill.bulk import BULK_POLL_INTERVAL_S, BULK_POLL_TIMEOUT_S, send_bulk, settle_open_batches
from relay.spill.clock import fenced_by_files, plan_contact_fields, record_sent
from relay.spill.fence import spill_holder
from relay.spill.letters import FileHooks, deliver, fail, letters_of, remember_created, set_state, supersede
from relay.spill.outage import ready_to_file
from relay.tenants import Tenant

log = structlog.get_logger("relay.spill")

UploaderFactory = Callable[[FallbackSettings], Uploader]


@dataclass(frozen=True)
class SweepOptions:
    max_records_per_file: int = MAX_RECORDS_PER_FILE
    bulk_poll_timeout_s: float = BULK_POLL_TIMEOUT_S
    bulk_poll_interval_s: float = BULK_POLL_INTERVAL_S
    clock: Clock = utc_now
    uploader_factory: UploaderFactory = uploader_for
    hooks: FileHooks = field(default_factory=FileHooks)


@dataclass
class SweepReport:
    tenant: str
    busy: bool = False
    files_written: list[str] = field(default_factory=list)
    files_uploaded: list[str] = field(default_factory=list)
    not_applicable: int = 0
    failed: int = 0
    upload_error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


_process_lock = MemorySweepLock()


def sweep_lock_for(rt: Runtime) -> SweepLock:
    """The shared Redis lease when the runtime has Redis, else this process's lock."""
    return RedisSweepLock(rt.redis) if rt.redis is not None else _process_lock


def file_sequence_for(rt: Runtime) -> FileSequence:
    """File numbers from Redis (never a name twice, across processes) when the runtime has Redis."""
    return RedisFileSequence(rt.redis) if rt.redis is not None else PROCESS_FILE_SEQUENCE


def sweep_tenant(
    rt: Runtime, tenant: Tenant, lock: SweepLock, options: SweepOptions | None = None
) -> SweepReport:
    """One sweep of ``tenant``; returns at once (``busy``) when another sweeper holds the tenant."""
    options = options or SweepOptions(hooks=rt.file_hooks)
    with lock.held(tenant.name) as mine:
        if not mine:
            return SweepReport(tenant.name, busy=True)
        with structlog.contextvars.bound_contextvars(tenant=tenant.name):
            return _sweep(rt, tenant, options)


def _sweep(rt: Runtime, tenant: Tenant, options: SweepOptions) -> SweepReport:
    report = SweepReport(tenant.name)
    settings = tenant.fallback
    outbox = Outbox(
        Path(settings.local_dir), tenant.name, clock=options.clock, sequence=file_sequence_for(rt)
    )
    _repair(rt, outbox, options.hooks)
    settle_open_batches(rt, tenant, options.hooks)
    pending = ready_to_file(
        rt, list(letters_of(rt).list(DeadLetterFilter(tenant=tenant.name, fallback_state="pending")))
    )
    resent = frozenset(letter.id for letter in pending if letter.fallback_file == CONTACT_NOT_IN_ENGAGE)
    by_file = resent | fenced_by_files(rt, tenant, pending) if settings.contacts_via == "bulk" else resent
    fields = plan_contact_fields(rt, tenant, pending, resent=resent)
    for letter, which in fields.superseded:
        supersede(rt, letter, f"newer values for {which} were already sent")
    overtaken = {letter.id for letter, _ in fields.superseded}
    pending = [letter for letter in pending if letter.id not in overtaken]
    plan = plan_letters(
        pending,
        tenant,
        rt.contacts,
        contacts_via_bulk=settings.contacts_via == "bulk",
        contacts_by_file=by_file,
        redemptions_by_file=settings.redemptions_by_file,
        contact_fields=fields.send,
    )
    record_sent(rt, tenant, fields, fields.send)
    for letter in plan.not_applicable:
        set_state(
            rt, letter.id, "not_applicable", message=f"{letter.message or ''} | {NO_FILE_CHANNEL}".strip(" |")
        )
    for letter, reason in plan.failed:
        fail(rt, letter, reason)
    report.not_applicable, report.failed = len(plan.not_applicable), len(plan.failed)
    to_files = list(plan.files)
    to_files += send_bulk(
        rt,
        tenant,
        plan.bulk,
        options.hooks,
        poll_timeout_s=options.bulk_poll_timeout_s,
        poll_interval_s=options.bulk_poll_interval_s,
    )
    if settings.transport == "none":
        if to_files:
            log.warning("fallback.sweep.no_transport", letters=len(to_files))
        return report
    report.files_written = _write_files(rt, tenant, outbox, to_files, options)
    _upload(rt, tenant, outbox, options, report)
    if report.files_written or report.files_uploaded or report.failed:
        log.info("fallback.sweep.done", **report.as_dict())
    return report


def _repair(rt: Runtime, outbox: Outbox, hooks: FileHooks) -> None:
    for entry in outbox.recover():
        if entry.status == "uploaded":
            _finish(rt, outbox, entry, hooks)
        elif entry.status == "ready" and not outbox.path_of(entry).is_file():
            log.error("fallback.outbox.file_lost", file=entry.name, letters=len(entry.letter_ids))
            for letter_id in entry.letter_ids:
                set_state(rt, letter_id, "pending", only_from=("written",))
            outbox.discard(entry)
        elif entry.status == "ready":
            for letter_id in entry.letter_ids:
                set_state(rt, letter_id, "written", file=entry.name, only_from=("pending",))


def _write_files(
    rt: Runtime, tenant: Tenant, outbox: Outbox, records: list[FileRecord], options: SweepOptions
) -> list[str]:
    groups: dict[tuple[str, str], list[FileRecord]] = {}
    for item in records:
        groups.setdefault((item.kind, item.group), []).append(item)
    written: list[str] = []
    for items in groups.values():
        writer: XmlBatchWriter | None = None
        batch: list[FileRecord] = []
        try:
            for item in items:
                if writer is None:
                    writer, batch = outbox.new_writer(item.kind, max_records=options.max_records_per_file), []
                try:
                    writer.add(item.record)
                except RecordError as exc:
                    fail(rt, item.letter, f"record refused by the {item.kind} file format: {exc}")
                    continue
                batch.append(item)
                if writer.is_full:
                    written.append(_publish(rt, tenant, outbox, writer, batch, options.hooks))
                    writer = None
            if writer is not None and batch:
                written.append(_publish(rt, tenant, outbox, writer, batch, options.hooks))
                writer = None
        finally:
            if writer is not None:
                writer.abort()
    return written


def _publish(
    rt: Runtime,
    tenant: Tenant,
    outbox: Outbox,
    writer: XmlBatchWriter,
    batch: list[FileRecord],
    hooks: FileHooks,
) -> str:
    entry = outbox.publish(writer, [item.letter.id for item in batch if not item.companion])
    fenced: list[str] = []
    for item in batch:
        if not item.companion:
            set_state(rt, item.letter.id, "written", file=entry.name)
        if item.kind == "contacts":
            ref = item.contact_id or file_clock_ref(item.keys)
            if ref is not None:
                fenced.append(ref)
            if item.keys:
                remember_created(rt, tenant, item.keys, None)
    rt.fence.raise_for(tenant.name, entry.name, fenced)
    for item in batch:  # the file fences them now: the spill's own fences go
        if item.kind == "contacts" and not item.companion:
            rt.fence.uploaded(tenant.name, spill_holder(item.letter.event_id), 0)
    hooks.written(tenant.name, entry.kind)
    log.info("fallback.file.written", file=entry.name, kind=entry.kind, records=entry.records)
    return entry.name


def _upload(rt: Runtime, tenant: Tenant, outbox: Outbox, options: SweepOptions, report: SweepReport) -> None:
    now = options.clock()
    if not any(entry.due(now) for entry in outbox.entries()):
        return
    try:
        uploader = options.uploader_factory(tenant.fallback)
    except ValueError as exc:
        report.upload_error = f"fallback settings cannot upload: {exc}"
        log.error("fallback.upload.misconfigured", error=report.upload_error)
        return
    with uploader:
        result = outbox.upload_due(uploader, tenant.fallback)
    for entry in result.uploaded:
        _finish(rt, outbox, entry, options.hooks)
        report.files_uploaded.append(entry.name)
    for entry, problems in result.invalid:
        for letter_id in entry.letter_ids:
            letter = letters_of(rt).get(letter_id)
            if letter is not None and letter.fallback_state == "written":
                fail(rt, letter, f"file {entry.name} failed validation: {'; '.join(problems)[:300]}")
    report.upload_error = result.rejected or result.unavailable


def _tenant_grace(rt: Runtime, tenant: str) -> float:
    return rt.registry.get(tenant).fallback.import_grace_s if tenant in rt.registry else 0.0


def _finish(rt: Runtime, outbox: Outbox, entry: OutboxEntry, hooks: FileHooks) -> None:
    detail = f"import file {entry.name} uploaded to {entry.remote_path}"
    for letter_id in entry.letter_ids:
        deliver(rt, letter_id, entry.upload_name, detail)
    rt.fence.uploaded(entry.tenant, entry.name, _tenant_grace(rt, entry.tenant))
    hooks.uploaded(entry.tenant, entry.kind)
    outbox.finish(entry)
    log.info("fallback.file.delivered", file=entry.name, remote_path=entry.remote_path, records=entry.records)
