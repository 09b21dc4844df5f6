"""A migration job put together from plain arguments: input, tenant, mapper, sink, checkpoint, rejects.

`run_migration(spec, ...)` is what `engage-relay migrate contacts|receipts` calls; tests call it too,
with their own client, uploader, clock and hook. The output folder holds everything of one run:

- `<out>/<kind>.checkpoint.json`: the checkpoint (`fallback.checkpoint`);
- `<out>/rejects.ndjson`: bad rows with their line numbers (`migration.rejects`);
- `<out>/files/`: import files not (yet) uploaded (all of them with `--no-upload`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final, Literal

from engage.client import EngageClient
from engage.models.contacts import MAX_BULK_CONTACTS
from fallback.checkpoint import CheckpointFile
from fallback.uploaders import Uploader, UploadTarget, uploader_for
from fallback.xmlfiles import MAX_RECORDS_PER_FILE, FileKind
from migration.contacts import ContactRowMapper, ContactsVia
from migration.outcomes import RowMapper
from migration.receipts import DEFAULT_HISTORY_MONTHS, ReceiptRowMapper, history_cutoff
from migration.rejects import MemoryRejects, Rejects, RejectsFile
from migration.runner import Hook, MigrationRun, Progress, RunResult, prepare_checkpoint
from migration.sinks import REMOTE_SUBDIRS, BulkSink, DryBulkSink, DryFileSink, FileSink, Sink
from migration.sources import InputFormat, format_of
from relay.tenants import Tenant

MigrationKind = Literal["contacts", "receipts"]
REJECTS_FILE_NAME: Final = "rejects.ndjson"
FILES_FOLDER_NAME: Final = "files"


class MigrationSetupError(ValueError):
    """The job cannot start as asked (bad options, no transport to upload with); the message says why."""


@dataclass(frozen=True)
class MigrationSpec:
    """What to migrate and how; defaults are the documented CLI defaults."""

    kind: MigrationKind
    input_path: Path
    tenant: Tenant
    out: Path
    fmt: InputFormat | None = None
    via: ContactsVia = "bulk"
    upload: bool = True
    batch_size: int = MAX_BULK_CONTACTS
    rows_per_file: int = MAX_RECORDS_PER_FILE
    months: int = DEFAULT_HISTORY_MONTHS
    since: date | None = None
    dry_run: bool = False
    restart: bool = False
    remote_subdir: str | None = None

    @property
    def file_kind(self) -> FileKind:
        return "contacts" if self.kind == "contacts" else "transactions"

    @property
    def uses_files(self) -> bool:
        return self.kind == "receipts" or self.via == "xml"

    @property
    def checkpoint_path(self) -> Path:
        return self.out / f"{self.kind}.checkpoint.json"

    @property
    def rejects_path(self) -> Path:
        return self.out / REJECTS_FILE_NAME

    @property
    def files_dir(self) -> Path:
        return self.out / FILES_FOLDER_NAME

    def options(self, fmt: InputFormat) -> dict[str, str]:
        """The options a resumed run must share with the first (they change what is produced)."""
        chosen = {"kind": self.kind, "tenant": self.tenant.name, "format": fmt}
        if self.kind == "contacts":
            chosen["via"] = self.via
            chosen["batch_size" if self.via == "bulk" else "rows_per_file"] = str(
                self.batch_size if self.via == "bulk" else self.rows_per_file
            )
        else:
            chosen["rows_per_file"] = str(self.rows_per_file)
            chosen["months"] = str(self.months)
            chosen["since"] = self.since.isoformat() if self.since else ""
        return chosen

    def check(self) -> None:
        if not self.input_path.is_file():
            raise MigrationSetupError(f"{self.input_path} is not a file")
        if not 1 <= self.batch_size <= MAX_BULK_CONTACTS:
            raise MigrationSetupError(f"--batch-size must be 1 to {MAX_BULK_CONTACTS}")
        if not 1 <= self.rows_per_file <= MAX_RECORDS_PER_FILE:
            raise MigrationSetupError(f"rows per file must be 1 to {MAX_RECORDS_PER_FILE}")
        if self.months < 1:
            raise MigrationSetupError("--months must be at least 1")


@dataclass
class Services:
    """What a job talks to; built by the CLI from settings, given by tests."""

    client: EngageClient | None = None
    uploader: Uploader | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def default_uploader(tenant: Tenant) -> Uploader:
    if tenant.fallback.transport == "none":
        raise MigrationSetupError(f"tenant {tenant.name} has no file transport; use --no-upload")
    return uploader_for(UploadTarget.from_settings(tenant.fallback))


def run_migration(
    spec: MigrationSpec,
    services: Services,
    *,
    progress: Progress | None = None,
    hook: Hook | None = None,
    rejects: Rejects | None = None,
) -> RunResult:
    """Run (or resume) one migration; raises MigrationSetupError, CheckpointError, MigrationStopped."""
    spec.check()
    try:
        fmt = format_of(spec.input_path, spec.fmt)
    except ValueError as exc:
        raise MigrationSetupError(str(exc)) from None
    store = None if spec.dry_run else CheckpointFile(spec.checkpoint_path)
    cutoff = history_cutoff(services.clock(), spec.months, spec.since) if spec.kind == "receipts" else None
    checkpoint, resumed = prepare_checkpoint(
        store,
        spec.input_path,
        spec.options(fmt),
        restart=spec.restart,
        cutoff=cutoff.isoformat() if cutoff else None,
    )
    if rejects is None:
        rejects = (
            MemoryRejects() if spec.dry_run else RejectsFile(spec.rejects_path, checkpoint.rejects_bytes)
        )
    try:
        run = MigrationRun(
            input_path=spec.input_path,
            fmt=fmt,
            mapper=_mapper(spec, fmt, checkpoint.cutoff),
            sink=_sink(spec, services, checkpoint.run_tag),
            checkpoint=checkpoint,
            store=store,
            rejects=rejects,
            progress=progress,
            hook=hook,
        )
        if services.uploader is not None and spec.uses_files and spec.upload and not spec.dry_run:
            with services.uploader:
                return run.run(resumed)
        return run.run(resumed)
    finally:
        rejects.close()


def _mapper(spec: MigrationSpec, fmt: InputFormat, cutoff: str | None) -> RowMapper:
    policy = spec.tenant.policy
    if spec.kind == "contacts":
        return ContactRowMapper(spec.tenant.name, policy, spec.via, columns=fmt == "csv")
    if fmt != "ndjson":
        raise MigrationSetupError("receipts are read from NDJSON (one event or event data per line)")
    assert cutoff is not None
    return ReceiptRowMapper(spec.tenant.name, policy, datetime.fromisoformat(cutoff))


def _sink(spec: MigrationSpec, services: Services, run_tag: str) -> Sink:
    if not spec.uses_files:
        if spec.dry_run:
            return DryBulkSink(spec.batch_size)
        if services.client is None:
            raise MigrationSetupError("a bulk migration needs an Engage client")
        return BulkSink(services.client, max_rows=spec.batch_size)
    if spec.dry_run:
        return DryFileSink(spec.file_kind, spec.rows_per_file)
    uploader = services.uploader if spec.upload else None
    if spec.upload and uploader is None:
        uploader = services.uploader = default_uploader(spec.tenant)
    subdir = spec.remote_subdir if spec.remote_subdir is not None else REMOTE_SUBDIRS[spec.file_kind]
    return FileSink(
        spec.file_kind,
        spec.files_dir,
        run_tag=run_tag,
        max_records=spec.rows_per_file,
        uploader=uploader,
        remote_subdir=subdir,
        clock=services.clock,
    )
