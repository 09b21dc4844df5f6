"""A tenant's outbox: import files waiting for upload, each described by a small JSON sidecar.

The outbox folder is the tenant's ``fallback.local_dir`` (one folder per tenant, e.g.
``.var/outbox/acme-se``; ``engage-relay status`` and the metrics count its finished files). Next to each
file ``{name}`` lies its sidecar ``.{name}.json`` (an :class:`OutboxEntry`): the kind, the dead letters
whose records it holds, its status and its upload attempts. Only files with a sidecar are uploaded, so
a file an operator drops into the folder is never sent by accident.

Lifecycle, every step persisted before the next begins, so a crash anywhere loses nothing:

1. ``writing``: the sidecar is saved just before the writer publishes the file under its final name
   (the writers publish atomically). After a crash: file there -> ``ready``; file missing -> the
   sidecar is dropped (its letters were never marked and are still pending). The name's number
   comes from the outbox's :class:`~fallback.file_sequence.FileSequence` (a number whose file or
   sidecar is still in the folder is skipped), so two sweeps in the same second never share a name.
2. ``ready``: complete, waiting for its upload slot. Validated against the XSD before every upload
   (a file that fails becomes ``invalid`` and is kept for inspection).
3. ``uploaded``: the uploader verified the remote size after the rename. The caller then marks the
   letters delivered and calls :meth:`Outbox.finish` (file, then sidecar removed). After a crash in
   between, the next sweep finds ``uploaded`` and finishes again (idempotent).

A name already taken on the server by a different file
(:class:`~fallback.uploaders.RemoteNameTaken`; the uploader replaced nothing) is not a failure: the
entry gets a new ``remote_name`` (same timestamp, the sequence's next number; saved in the sidecar
before the retry, so a crash keeps the choice) and is uploaded again under it, at most
:data:`MAX_NAMES_PER_FILE` names per file. The local file keeps its name; ``remote_path`` says
where it went. Events are neither lost (the other file is left as it was) nor doubled (the same
bytes under the same name count as our own earlier upload and are not sent again).

Upload failures: :class:`~fallback.uploaders.UploadUnavailable` keeps the file and schedules the next
attempt on :func:`~fallback.uploaders.next_upload_attempt`; :class:`~fallback.uploaders.UploadRejected`
keeps the file, logs an error, flags the entry ``rejected`` (shown by ``engage-relay fallback outbox``)
and tries again only after :data:`UPLOAD_REJECTED_RETRY_S` (an operator must fix credentials or folders).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field

from fallback.config import FallbackSettings
from fallback.file_sequence import PROCESS_FILE_SEQUENCE, FileSequence
from fallback.uploaders import (
    RemoteNameTaken,
    Uploader,
    UploadReceipt,
    UploadRejected,
    UploadUnavailable,
    next_upload_attempt,
)
from fallback.xmlfiles import MAX_RECORDS_PER_FILE, FileKind, XmlBatchWriter, validate_file
from fallback.xmlfiles.naming import parse_file_name, with_seq
from fallback.xmlfiles.writers import WRITERS

log = structlog.get_logger("fallback.outbox")

REMOTE_SUBDIR_BY_KIND: Final[Mapping[FileKind, str]] = {
    "transactions": "transactionImport",  # Voyado: [base ftp-url]/integration/transactionImport
    "contacts": "contactImport",  # unverified: Voyado documents no folder name for contact imports
    "promotion-redemptions": "promotionRedemptionImport",  # our own format (fallback/xsd)
}
"""Remote sub folder (under the tenant's ``remote_dir``) per file kind; a tenant overrides it with
``fallback.remote_subdirs``."""

UPLOAD_REJECTED_RETRY_S: Final = 600.0
"""A refused upload (auth, permissions, missing remote_dir) is tried again only this long after."""
UPLOAD_ORDER: Final[tuple[str, ...]] = ("contacts", "transactions", "promotion-redemptions")
"""Kinds in upload order: contacts first, since Engage ignores a receipt for a contact it does not have."""
MAX_NAMES_PER_FILE: Final = 5
"""Remote names one file tries in one round when the server holds other files under them; then the
file is handled as refused (an operator looks at who else writes our names into the folder)."""
STALE_PART_AGE_S: Final = 3600.0
"""A writer's temporary ``.part`` file older than this was left by a crash and is removed."""
SIDECAR_PREFIX: Final = "."
SIDECAR_SUFFIX: Final = ".json"
MAX_ERROR_CHARS: Final = 500

EntryStatus = Literal["writing", "ready", "uploaded", "invalid"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def remote_subdir_for(settings: FallbackSettings, kind: FileKind) -> str:
    """The tenant's sub folder for ``kind``: its ``remote_subdirs`` entry, else the default."""
    overrides = settings.remote_subdirs or {}
    return overrides.get(kind, REMOTE_SUBDIR_BY_KIND[kind])


class OutboxEntry(BaseModel):
    """One file of the outbox and what became of it (the sidecar's content)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: FileKind
    tenant: str
    letter_ids: list[str]
    records: int
    status: EntryStatus = "writing"
    created_at: datetime = Field(default_factory=utc_now)
    failures: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    rejected: bool = False
    remote_path: str | None = None
    remote_name: str | None = None  # set when ``name`` was taken on the server by another file

    @property
    def upload_name(self) -> str:
        """The name the file gets on the server: ``remote_name`` if set, else ``name``."""
        return self.remote_name or self.name

    def due(self, now: datetime) -> bool:
        return self.status == "ready" and (self.next_attempt_at is None or self.next_attempt_at <= now)


@dataclass
class UploadRound:
    """What one :meth:`Outbox.upload_due` call did."""

    uploaded: list[OutboxEntry] = field(default_factory=list)
    invalid: list[tuple[OutboxEntry, list[str]]] = field(default_factory=list)
    unavailable: str | None = None  # the error, when the server could not be reached
    rejected: str | None = None  # the error, when the server refused


class Outbox:
    """The files of one tenant's outbox folder; the caller holds the tenant's sweep lock."""

    def __init__(
        self,
        folder: Path,
        tenant: str,
        *,
        clock: Clock = utc_now,
        sequence: FileSequence = PROCESS_FILE_SEQUENCE,
    ) -> None:
        """``sequence`` numbers the files; pass a :class:`~fallback.file_sequence.RedisFileSequence`
        wherever several processes sweep the tenant (the default is unique within this process)."""
        self.folder = Path(folder)
        self.tenant = tenant
        self.clock = clock
        self.sequence = sequence

    def __repr__(self) -> str:
        return f"Outbox(folder={str(self.folder)!r}, tenant={self.tenant!r})"

    # --- files and sidecars ----------------------------------------------------------------------

    def path_of(self, entry: OutboxEntry) -> Path:
        return self.folder / entry.name

    def _sidecar(self, name: str) -> Path:
        return self.folder / f"{SIDECAR_PREFIX}{name}{SIDECAR_SUFFIX}"

    def save(self, entry: OutboxEntry) -> None:
        """Write the sidecar atomically (temporary file, fsync, rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._sidecar(entry.name)
        temp = target.with_name(f"{target.name}.tmp")
        with temp.open("w", encoding="utf-8") as file:
            file.write(entry.model_dump_json())
            file.flush()
            os.fsync(file.fileno())
        temp.replace(target)

    def entries(self) -> list[OutboxEntry]:
        """This tenant's sidecars, oldest file first (a folder shared by mistake never mixes tenants);
        unreadable sidecars are skipped and logged."""
        found: list[OutboxEntry] = []
        for path in self._sidecars():
            try:
                entry = OutboxEntry.model_validate_json(path.read_bytes())
            except (OSError, ValueError) as exc:
                log.error("fallback.outbox.bad_sidecar", path=str(path), error=type(exc).__name__)
                continue
            if entry.tenant == self.tenant:
                found.append(entry)
        # Contacts before the receipts that may need them (Engage ignores a receipt for an unknown contact).
        return sorted(
            found, key=lambda e: (UPLOAD_ORDER.index(e.kind) if e.kind in UPLOAD_ORDER else 99, e.name)
        )

    def _sidecars(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.name.startswith(SIDECAR_PREFIX) and path.name.endswith(SIDECAR_SUFFIX):
                yield path

    def orphans(self) -> list[str]:
        """Import-file names in the folder that no sidecar describes (never uploaded by the sweep)."""
        if not self.folder.is_dir():
            return []
        known = {e.name for e in self.entries()}
        names = []
        for path in self.folder.iterdir():
            if path.is_file() and path.name not in known and _is_import_name(path.name):
                names.append(path.name)
        return sorted(names)

    def finish(self, entry: OutboxEntry) -> None:
        """After the caller recorded the delivery: remove the file, then its sidecar."""
        self.path_of(entry).unlink(missing_ok=True)
        self._sidecar(entry.name).unlink(missing_ok=True)

    def discard(self, entry: OutboxEntry) -> None:
        """Forget an entry whose file never got published."""
        self._sidecar(entry.name).unlink(missing_ok=True)

    # --- writing ---------------------------------------------------------------------------------

    def new_writer(self, kind: FileKind, *, max_records: int = MAX_RECORDS_PER_FILE) -> XmlBatchWriter:
        """A started writer named with the sequence's next number for this tenant and kind (skipping
        any name a file or sidecar of this outbox still uses, should the sequence have restarted)."""
        now = self.clock()
        # a rising sequence skips at most one number per name the folder holds
        in_folder = sum(1 for _ in self.folder.iterdir()) if self.folder.is_dir() else 0
        for _ in range(in_folder + 1):
            seq = self.sequence.next(self.tenant, kind)
            writer = WRITERS[kind](self.folder, seq, max_records=max_records, now=now)
            if not writer.path.exists() and not self._sidecar(writer.name).exists():
                writer.start()
                return writer
        raise RuntimeError(f"{self.sequence!r} keeps handing out numbers whose names {self!r} holds")

    def publish(self, writer: XmlBatchWriter, letter_ids: list[str]) -> OutboxEntry:
        """Save the sidecar (``writing``), publish the file, then mark it ``ready``."""
        entry = OutboxEntry(
            name=writer.name,
            kind=writer.kind,
            tenant=self.tenant,
            letter_ids=letter_ids,
            records=writer.count,
            created_at=self.clock(),
        )
        self.save(entry)
        writer.close()
        entry.status = "ready"
        self.save(entry)
        return entry

    def recover(self) -> list[OutboxEntry]:
        """Repair what a crash left: ``writing`` entries, stale temporary files. Returns every entry."""
        self._remove_stale_parts()
        entries = []
        for entry in self.entries():
            if entry.status == "writing":
                if self.path_of(entry).is_file():
                    entry.status = "ready"
                    self.save(entry)
                else:
                    self.discard(entry)
                    continue
            entries.append(entry)
        return entries

    def _remove_stale_parts(self) -> None:
        if not self.folder.is_dir():
            return
        cutoff = time.time() - STALE_PART_AGE_S
        for path in self.folder.iterdir():
            if path.name.startswith(".") and path.name.endswith((".part", ".json.tmp")):
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()

    # --- uploading -------------------------------------------------------------------------------

    def upload_due(self, uploader: Uploader, settings: FallbackSettings) -> UploadRound:
        """Upload every due ``ready`` file, and with it every ``ready`` file written before it, oldest first;
        on the first failure, back off those files and stop.

        Files go out in the order they were written, whatever their own back-off: Engage imports what it finds
        in name order, so a newer contacts file uploaded while an older one waits out its back-off would be
        imported first, and the older file's values would land over the newer ones."""
        now = self.clock()
        ready = [e for e in self.entries() if e.status == "ready"]
        last_due = max((n for n, e in enumerate(ready) if e.due(now)), default=-1)
        due = ready[: last_due + 1]
        result = UploadRound()
        for index, entry in enumerate(due):
            problems = (
                validate_file(self.path_of(entry), entry.kind) if self.path_of(entry).is_file() else None
            )
            if problems is None or problems:
                entry.status = "invalid"
                entry.last_error = "; ".join(problems or ["file missing from the outbox"])[:MAX_ERROR_CHARS]
                self.save(entry)
                log.error("fallback.outbox.invalid_file", file=entry.name, error=entry.last_error)
                result.invalid.append((entry, problems or ["file missing from the outbox"]))
                continue
            try:
                receipt = self._upload_under_free_name(
                    uploader, entry, remote_subdir_for(settings, entry.kind)
                )
            except UploadUnavailable as exc:
                result.unavailable = exc.message
                self._back_off(due[index:], exc.message, rejected=False, now=now)
                break
            except UploadRejected as exc:
                result.rejected = exc.message
                log.error(
                    "fallback.outbox.upload_rejected", tenant=self.tenant, file=entry.name, error=exc.message
                )
                self._back_off(due[index:], exc.message, rejected=True, now=now)
                break
            entry.status = "uploaded"
            entry.remote_path = receipt.remote_path
            entry.last_error = None
            entry.rejected = False
            self.save(entry)
            result.uploaded.append(entry)
        return result

    def _upload_under_free_name(self, uploader: Uploader, entry: OutboxEntry, subdir: str) -> UploadReceipt:
        """Upload ``entry``; while its name is taken on the server by another file, take the next one."""
        for attempt in range(1, MAX_NAMES_PER_FILE + 1):
            try:
                return uploader.upload(self.path_of(entry), entry.upload_name, subdir, remove_local=False)
            except RemoteNameTaken:
                if attempt == MAX_NAMES_PER_FILE:
                    raise
                taken = entry.upload_name
                entry.remote_name = with_seq(entry.name, self.sequence.next(self.tenant, entry.kind))
                self.save(entry)  # the new name is chosen once, even across a crash
                log.warning(
                    "fallback.outbox.remote_name_taken",
                    tenant=self.tenant,
                    file=entry.name,
                    taken=taken,
                    new_name=entry.remote_name,
                )
        raise AssertionError("unreachable")  # the loop returns or raises

    def _back_off(self, entries: list[OutboxEntry], error: str, *, rejected: bool, now: datetime) -> None:
        for entry in entries:
            if entry.status != "ready":
                continue
            entry.failures += 1
            wait_s = UPLOAD_REJECTED_RETRY_S if rejected else next_upload_attempt(entry.failures)
            entry.next_attempt_at = now + timedelta(seconds=wait_s)
            entry.last_error = error[:MAX_ERROR_CHARS]
            entry.rejected = rejected
            self.save(entry)
        log.warning(
            "fallback.outbox.upload_deferred",
            tenant=self.tenant,
            files=len(entries),
            rejected=rejected,
            error=error[:MAX_ERROR_CHARS],
        )


def _is_import_name(name: str) -> bool:
    try:
        parse_file_name(name)
    except ValueError:
        return False
    return True
