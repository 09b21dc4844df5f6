"""`engage-relay migrate contacts|receipts FILE`: historical data into Engage before go-live.

Contacts go through the bulk API (`--via bulk`, at most 4000 a request, rate-limited at the tenant's
budget) or as contacts XML files (`--via xml`); receipts and returns as transactions XML files, one
matchKeyType per file, the last 24 months by default. Files hold at most 20,000 records, are validated
against the shipped XSDs and uploaded with the tenant's uploader unless `--no-upload`.
Every run keeps a checkpoint in its output folder and resumes from it by default (`--restart` ignores
it); bad rows go to `rejects.ndjson` with their line numbers and never stop the run.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from workers.process import current_env

if TYPE_CHECKING:
    from fallback.uploaders import Uploader
    from migration.jobs import MigrationKind
    from relay.tenants import Tenant

INTERRUPTED_EXIT_CODE = 130
# Written out so that `migrate ... --help` imports nothing heavy; a test compares each with its owner:
MAX_BULK_CONTACTS = 4000  # engage.models.contacts.MAX_BULK_CONTACTS
MAX_RECORDS_PER_FILE = 20_000  # fallback.xmlfiles.MAX_RECORDS_PER_FILE
DEFAULT_HISTORY_MONTHS = 24  # migration.receipts.DEFAULT_HISTORY_MONTHS


@click.group("migrate")
def command() -> None:
    """Migrate historical contacts and receipts into Engage (before go-live); resumable."""


def _common(function: Any) -> Any:
    options = [
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--tenant", required=True, help="Tenant to migrate into."),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Output folder: checkpoint, rejects.ndjson, files/ (default under ENGAGE_RELAY_DATA_DIR).",
        ),
        click.option("--upload/--no-upload", default=True, show_default=True, help="Upload the XML files."),
        click.option(
            "--remote-subdir",
            default=None,
            help="Folder under the tenant's remote_dir (default contactImport / transactionImport).",
        ),
        click.option(
            "--rows-per-file",
            type=click.IntRange(1, MAX_RECORDS_PER_FILE),
            default=MAX_RECORDS_PER_FILE,
            show_default=True,
            help="Records per XML file.",
        ),
        click.option(
            "--dry-run", is_flag=True, help="Read, validate and count; write, send, upload nothing."
        ),
        click.option(
            "--resume/--restart",
            default=True,
            show_default=True,
            help="Resume from the output folder's checkpoint, or ignore it and start over.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@command.command("contacts")
@_common
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "ndjson"]), default=None, help="Default: by extension."
)
@click.option("--via", type=click.Choice(["bulk", "xml"]), default="bulk", show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BULK_CONTACTS),
    default=MAX_BULK_CONTACTS,
    show_default=True,
    help="Rows per bulk request.",
)
def contacts(
    file: Path,
    tenant: str,
    out: Path | None,
    upload: bool,
    remote_subdir: str | None,
    rows_per_file: int,
    dry_run: bool,
    resume: bool,
    fmt: str | None,
    via: str,
    batch_size: int,
) -> None:
    """Migrate contacts from a CSV (Engage attribute names) or NDJSON (customer data) FILE."""
    _run(
        "contacts",
        file,
        tenant,
        out,
        dry_run=dry_run,
        restart=not resume,
        fmt=fmt,
        via=via,
        upload=upload,
        remote_subdir=remote_subdir,
        rows_per_file=rows_per_file,
        batch_size=batch_size,
    )


@command.command("receipts")
@_common
@click.option(
    "--months",
    type=click.IntRange(1, 240),
    default=DEFAULT_HISTORY_MONTHS,
    show_default=True,
    help="Only receipts from the last N months.",
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Only receipts from DATE on (UTC)."
)
def receipts(
    file: Path,
    tenant: str,
    out: Path | None,
    upload: bool,
    remote_subdir: str | None,
    rows_per_file: int,
    dry_run: bool,
    resume: bool,
    months: int,
    since: datetime | None,
) -> None:
    """Migrate receipts and returns from an NDJSON FILE of our sales events (or their data)."""
    _run(
        "receipts",
        file,
        tenant,
        out,
        dry_run=dry_run,
        restart=not resume,
        fmt="ndjson",
        upload=upload,
        remote_subdir=remote_subdir,
        rows_per_file=rows_per_file,
        months=months,
        since=since.date() if since else None,
    )


def _run(kind: MigrationKind, file: Path, tenant_name: str, out: Path | None, **options: Any) -> None:
    from migration.jobs import run_migration
    from migration.rejects import MemoryRejects
    from migration.report import ProgressBar, summary_lines
    from migration.session import prepare
    from migration.sinks import MigrationStopped

    # an unknown tenant, a wrong tenants file, options the job refuses or a checkpoint of another run:
    # one line each (workers.cli)
    settings = current_env().settings
    tenant = current_env().registry().get(tenant_name)
    spec, services = prepare(
        kind, file, tenant, out=out, data_dir=settings.data_dir, redis_url=settings.redis_url, **options
    )
    if spec.uses_files and spec.upload and not spec.dry_run and services.uploader is None:
        services.uploader = _uploader(tenant)
    rejects = MemoryRejects() if spec.dry_run else None
    unit = "files" if spec.uses_files else "bulk"
    bar = ProgressBar(file.stat().st_size, unit, 0) if sys.stdout.isatty() else None
    try:
        with _sigterm_as_interrupt(), bar or nullcontext():
            result = run_migration(spec, services, progress=bar, rejects=rejects)
    except MigrationStopped as exc:
        click.echo(
            f"stopped: {exc}; the checkpoint in {spec.out} is kept: run the same command again to resume",
            err=True,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo(f"interrupted; the checkpoint in {spec.out} is kept; run again to resume", err=True)
        sys.exit(INTERRUPTED_EXIT_CODE)
    shown = None if spec.dry_run else str(spec.rejects_path)
    for line in summary_lines(
        result, unit, dry_run=spec.dry_run, rejects_path=shown, receipts=kind == "receipts"
    ):
        click.echo(line)
    if isinstance(rejects, MemoryRejects):
        for line_no, stage, reasons in rejects.first:
            click.echo(f"  line {line_no} ({stage}): {'; '.join(reasons)}")


def _uploader(tenant: Tenant) -> Uploader:
    """The tenant's uploader, or one line saying why its fallback settings cannot make one."""
    from migration.jobs import MigrationSetupError, default_uploader

    try:
        return default_uploader(tenant)
    except MigrationSetupError:
        raise  # says it all (workers.cli)
    except ValueError as exc:  # the settings cannot make an upload target (UploadTarget's checks)
        raise click.ClickException(
            f"tenant {tenant.name} cannot upload files: {exc}; fix its fallback settings or use --no-upload"
        ) from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` stops the run like Ctrl-C: open batches are dropped, the checkpoint is kept."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
