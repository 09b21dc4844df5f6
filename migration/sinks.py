"""Where migrated rows go, one batch at a time: import files (then uploaded) or bulk requests.

A batch leaves in two steps, with a checkpoint after each (see `migration.runner`):

- files: ``close`` publishes the XML file in the output folder (stage ``written``), validated against
  the shipped XSD; ``finish`` uploads it with the tenant's uploader, which removes the local copy once
  the upload is verified (stage ``uploaded``); without an uploader the file stays ``written``;
- bulk: ``close`` sends the rows (``POST /contacts/bulk?contactType=<group>``, at most 4000) and keeps
  the batch id (stage ``sent``); ``finish`` polls the batch status until it is done and returns the rows
  Engage refused (stage ``done``).

The dry-run twins check and count without writing, sending or uploading anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from engage.client import EngageClient
from engage.errors import PermanentError
from engage.models.contacts import MAX_BULK_CONTACTS, BulkStatus
from fallback.checkpoint import BatchRecord
from fallback.uploaders import Uploader
from fallback.xmlfiles import FileKind, XmlBatchWriter, validate_file
from fallback.xmlfiles.writers import TEMP_SUFFIX, WRITERS

BULK_POLL_FIRST_S: Final = 0.2
BULK_POLL_MAX_S: Final = 5.0
BULK_STATUS_MAX_WAIT_S: Final = 900.0
REMOTE_SUBDIRS: Final[Mapping[FileKind, str]] = {
    "contacts": "contactImport",
    "transactions": "transactionImport",
    "promotion-redemptions": "promotionImport",
}
"""Default folder under the tenant's ``remote_dir`` per file kind (Voyado: integration/transactionImport)."""

Failure = tuple[int, str]  # (input line, reason)


class BatchRefused(Exception):
    """Engage refused a whole bulk request (4xx): every row of the batch is rejected with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MigrationStopped(Exception):
    """The run cannot go on now (Engage or the file server unavailable, a file failing its XSD).

    The checkpoint is kept; a rerun resumes.
    """


class OpenBatch(Protocol):
    group: str

    @property
    def count(self) -> int: ...

    @property
    def is_full(self) -> bool: ...

    def add(self, record: dict[str, Any], line: int) -> None:
        """Raises ``fallback.xmlfiles.RecordError`` for a record the batch cannot take."""

    def close(self) -> BatchRecord: ...

    def abort(self) -> None: ...


class Sink(Protocol):
    unit: str  # "files" or "bulk"

    def prepare(self, known: set[str]) -> None:
        """Before a run: drop what an interrupted earlier run left that its checkpoint does not know."""

    def open(self, group: str, seq: int) -> OpenBatch: ...

    def finish(self, batch: BatchRecord) -> list[Failure]: ...


# --- files ---------------------------------------------------------------------------------------------


class _FileBatch:
    def __init__(self, writer: XmlBatchWriter, group: str, seq: int, kind: FileKind) -> None:
        self.writer, self.group, self.seq, self.kind = writer, group, seq, kind
        writer.start()

    @property
    def count(self) -> int:
        return self.writer.count

    @property
    def is_full(self) -> bool:
        return self.writer.is_full

    def add(self, record: dict[str, Any], line: int) -> None:
        del line
        self.writer.add(record)

    def close(self) -> BatchRecord:
        count = self.writer.count
        path = self.writer.close()
        problems = validate_file(path, self.kind)
        if problems:
            raise MigrationStopped(f"{path.name} fails its XSD ({problems[0]}); it was kept for inspection")
        return BatchRecord(seq=self.seq, group=self.group, rows=count, stage="written", name=path.name)

    def abort(self) -> None:
        self.writer.abort()


class FileSink:
    """Import files of one kind in ``folder``; uploaded at ``finish`` when an uploader is given."""

    unit = "files"

    def __init__(
        self,
        kind: FileKind,
        folder: Path,
        *,
        run_tag: str,
        max_records: int,
        uploader: Uploader | None,
        remote_subdir: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kind, self.folder, self.run_tag = kind, folder, run_tag
        self.max_records, self.uploader, self.remote_subdir, self.clock = (
            max_records,
            uploader,
            remote_subdir,
            clock,
        )

    def seq_name(self, seq: int) -> str:
        return f"{self.run_tag}-{seq}"

    def prepare(self, known: set[str]) -> None:
        """Remove this run's temporary files and files published but never checkpointed (a kill
        between publishing and saving): their rows are read again and written to a new file."""
        if not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            name = entry.name
            ours = f"_{self.run_tag}-" in name and name.endswith(f"_{self.kind}.xml")
            temp = name.startswith(".") and name.endswith(TEMP_SUFFIX) and f"_{self.run_tag}-" in name
            if entry.is_file() and (temp or (ours and name not in known)):
                entry.unlink()

    def open(self, group: str, seq: int) -> OpenBatch:
        writer = WRITERS[self.kind](
            self.folder, self.seq_name(seq), max_records=self.max_records, now=self.clock()
        )
        return _FileBatch(writer, group, seq, self.kind)

    def finish(self, batch: BatchRecord) -> list[Failure]:
        if self.uploader is None or batch.name is None:
            return []
        path = self.folder / batch.name
        if path.is_file():
            try:
                self.uploader.upload(path, batch.name, self.remote_subdir)
            except Exception as exc:
                raise MigrationStopped(f"upload of {batch.name} failed: {exc}") from exc
        # A missing local file was uploaded and removed just before an interruption.
        batch.stage = "uploaded"
        return []


class _DryFileBatch:
    def __init__(self, writer_cls: type[XmlBatchWriter], group: str, seq: int, max_records: int) -> None:
        self.writer_cls, self.group, self.seq, self.max_records = writer_cls, group, seq, max_records
        self.count = 0

    @property
    def is_full(self) -> bool:
        return self.count >= self.max_records

    def add(self, record: dict[str, Any], line: int) -> None:
        del line
        self.writer_cls.render(record)  # RecordError exactly as the real writer would raise it
        self.count += 1

    def close(self) -> BatchRecord:
        return BatchRecord(seq=self.seq, group=self.group, rows=self.count, stage="written")

    def abort(self) -> None:
        return None


class DryFileSink:
    """Renders every record (so bad ones are found) and counts files; writes nothing."""

    unit = "files"

    def __init__(self, kind: FileKind, max_records: int) -> None:
        self.kind, self.max_records = kind, max_records

    def prepare(self, known: set[str]) -> None:
        del known

    def open(self, group: str, seq: int) -> OpenBatch:
        return _DryFileBatch(WRITERS[self.kind], group, seq, self.max_records)

    def finish(self, batch: BatchRecord) -> list[Failure]:
        del batch
        return []


# --- bulk ----------------------------------------------------------------------------------------------


class _BulkBatch:
    def __init__(self, sink: BulkSink | None, group: str, seq: int, max_rows: int) -> None:
        self.sink, self.group, self.seq, self.max_rows = sink, group, seq, max_rows
        self.rows: list[dict[str, Any]] = []
        self.lines: list[int] = []

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def is_full(self) -> bool:
        return len(self.rows) >= self.max_rows

    def add(self, record: dict[str, Any], line: int) -> None:
        self.rows.append(record)
        self.lines.append(line)

    def close(self) -> BatchRecord:
        rows, lines = len(self.rows), self.lines
        record = BatchRecord(seq=self.seq, group=self.group, rows=rows, stage="sent", lines=lines)
        if self.sink is not None:
            try:
                record.batch_id = self.sink.send(self.rows, self.group)
            except BatchRefused as exc:
                record.stage, record.refused = "done", exc.reason
        self.rows, self.lines = [], []
        return record

    def abort(self) -> None:
        self.rows, self.lines = [], []


class BulkSink:
    """Bulk-create requests through the Engage client (rate-limited there), one contact type each."""

    unit = "bulk"

    def __init__(
        self,
        client: EngageClient,
        *,
        max_rows: int = MAX_BULK_CONTACTS,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = BULK_STATUS_MAX_WAIT_S,
    ) -> None:
        if not 1 <= max_rows <= MAX_BULK_CONTACTS:
            raise ValueError(f"a bulk batch holds 1 to {MAX_BULK_CONTACTS} rows")
        self.client, self.max_rows, self.sleep, self.max_wait_s = client, max_rows, sleep, max_wait_s

    def prepare(self, known: set[str]) -> None:
        del known

    def open(self, group: str, seq: int) -> OpenBatch:
        return _BulkBatch(self, group, seq, self.max_rows)

    def send(self, rows: list[dict[str, Any]], contact_type: str) -> str:
        try:
            return self.client.bulk_create_contacts(rows, contact_type=contact_type)
        except PermanentError as exc:
            raise BatchRefused(f"{exc.error_code or exc.status}: {exc.engage_message or exc}") from exc
        except Exception as exc:
            raise MigrationStopped(f"bulk request failed: {exc}") from exc

    def finish(self, batch: BatchRecord) -> list[Failure]:
        if batch.batch_id is None:
            batch.stage = "done"
            return []
        status = self._wait(batch.batch_id)
        failures: list[Failure] = []
        for error in status.errors:
            index = error.index if error.index is not None else -1
            line = batch.lines[index] if 0 <= index < len(batch.lines) else 0
            failures.append((line, f"{error.error_code or 'Error'}: {error.message or 'refused by Engage'}"))
        if status.status.casefold() == "failed" and not failures:
            failures = [(line, "Engage reports the whole batch failed") for line in batch.lines]
        batch.stage = "done"
        return failures

    def _wait(self, batch_id: str) -> BulkStatus:
        waited_s, pause_s = 0.0, BULK_POLL_FIRST_S
        while True:
            try:
                status = self.client.bulk_status(batch_id)
            except Exception as exc:
                raise MigrationStopped(f"bulk status of batch {batch_id} cannot be read: {exc}") from exc
            if status.done:
                return status
            if waited_s >= self.max_wait_s:
                raise MigrationStopped(
                    f"bulk batch {batch_id} not done after {self.max_wait_s:.0f}s; rerun later"
                )
            self.sleep(pause_s)
            waited_s += pause_s
            pause_s = min(pause_s * 2, BULK_POLL_MAX_S)


class DryBulkSink:
    """Counts bulk requests; sends nothing."""

    unit = "bulk"

    def __init__(self, max_rows: int = MAX_BULK_CONTACTS) -> None:
        self.max_rows = max_rows

    def prepare(self, known: set[str]) -> None:
        del known

    def open(self, group: str, seq: int) -> OpenBatch:
        return _BulkBatch(None, group, seq, self.max_rows)

    def finish(self, batch: BatchRecord) -> list[Failure]:
        batch.stage = "done"
        return []
