"""What a migration shows: a rich progress bar on a terminal, and a summary at the end, always."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from migration.runner import RunResult


def counts_text(counters: Mapping[str, int], unit: str) -> str:
    """The counts that matter for this kind of run, in one line."""
    parts = [f"read {counters.get('read', 0)}"]
    if unit == "files":
        parts += [f"written {counters.get('written', 0)}", f"files {counters.get('files', 0)}"]
        parts.append(f"uploaded {counters.get('uploaded', 0)}")
    else:
        parts += [f"sent {counters.get('sent', 0)}", f"batches {counters.get('batches', 0)}"]
        parts.append(f"failed {counters.get('failed', 0)}")
    if counters.get("skipped_old"):
        parts.append(f"skipped-old {counters['skipped_old']}")
    parts.append(f"rejected {counters.get('rejected', 0)}")
    return ", ".join(parts)


class ProgressBar:
    """A rich progress bar over the input's bytes, with the counts and the rate (rows/s) beside it."""

    def __init__(
        self, total_bytes: int, unit: str, start_offset: int, console: Console | None = None
    ) -> None:
        self.unit = unit
        self._rows_at_start: int | None = None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(
            "migrating", total=total_bytes, completed=start_offset, counts=""
        )

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, offset: int, counters: Mapping[str, int]) -> None:
        task = self._progress.tasks[0]
        rows = counters.get("read", 0)
        if self._rows_at_start is None:
            self._rows_at_start = rows
        elapsed = task.elapsed or 0.0
        rate = (rows - self._rows_at_start) / elapsed if elapsed > 0 else 0.0
        counts = f"{counts_text(counters, self.unit)} ({rate:.0f} rows/s)"
        self._progress.update(self._task, completed=offset, counts=counts)


def summary_lines(
    result: RunResult, unit: str, *, dry_run: bool, rejects_path: str | None, receipts: bool = False
) -> list[str]:
    """The end-of-run summary (plain text, one fact per line)."""
    c = result.counters
    head = "dry run (nothing written, sent or uploaded)" if dry_run else "migration"
    if result.already_done:
        head += ": already complete (checkpoint says done; --restart to run it again)"
    elif result.resumed:
        head += ": resumed from checkpoint"
    lines = [
        head,
        f"rows read: {c.get('read', 0)}",
        f"rows rejected: {c.get('rejected', 0)}" + (f" (see {rejects_path})" if rejects_path else ""),
    ]
    if unit == "files":
        lines += [
            f"rows written to files: {c.get('written', 0)}",
            f"files: {c.get('files', 0)} written, {c.get('uploaded', 0)} uploaded",
        ]
    else:
        lines += [
            f"rows sent in bulk: {c.get('sent', 0)} in {c.get('batches', 0)} batch(es)",
            f"rows Engage refused: {c.get('failed', 0)}",
        ]
    if receipts:
        lines.append(f"rows skipped as too old: {c.get('skipped_old', 0)}")
    lines.append(f"elapsed: {result.elapsed_s:.1f}s")
    return lines
