"""The checkpointed migration loop: stream rows, map, batch per group, deliver, checkpoint, resume.

One pass over the input, one row in memory at a time (plus the open batches: at most one per group,
a bulk batch holds its rows until sent, a file batch streams them to disk).
After every batch step (a file written, a file uploaded, a bulk request sent, its status read) the
checkpoint is saved atomically, so an interruption at any point (Ctrl-C, kill, a crash, Engage or the
file server going away) loses at most the open batches, which a resumed run rebuilds:

- batches the checkpoint left half-way (a file written but not uploaded, a bulk request sent but not
  polled) are finished first, never rebuilt or re-sent;
- reading restarts at the oldest row of any group's open batch (`Checkpoint.resume_from`); rows before
  the checkpoint's position were already counted, so they are only re-added to their group's open batch
  (and only from that group's `pending_from`), never counted or rejected twice;
- the rejects file is cut back to the size the checkpoint recorded.

The one unavoidable window: a bulk request Engage accepted just before the process died, before its
checkpoint was saved, is sent again on resume (bulk create then reports the rows as existing).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol

from fallback.checkpoint import BatchRecord, Checkpoint, CheckpointFile, InputFingerprint, Mark
from fallback.xmlfiles import RecordError
from migration.outcomes import Mapped, Rejected, RowMapper, Skipped
from migration.rejects import Rejects
from migration.sinks import OpenBatch, Sink
from migration.sources import InputFormat, SourceRow, read_rows

COUNTERS: Final = (
    "read",
    "rejected",
    "skipped_old",
    "written",
    "files",
    "uploaded",
    "sent",
    "batches",
    "failed",
)
PROGRESS_EVERY_ROWS: Final = 250
RUN_TAG_BYTES: Final = 3

SaveStage = Literal["closed", "finished", "done"]
Hook = Callable[[SaveStage, Checkpoint], None]
"""Called after each checkpoint save: ``closed`` (file written / request sent), ``finished`` (uploaded /
polled), ``done``. Tests raise from it to simulate an interruption."""


class Progress(Protocol):
    def update(self, offset: int, counters: Mapping[str, int]) -> None: ...


@dataclass(frozen=True)
class RunResult:
    counters: dict[str, int]
    elapsed_s: float
    resumed: bool
    already_done: bool
    checkpoint: Checkpoint


def prepare_checkpoint(
    store: CheckpointFile | None,
    input_path: Path,
    options: dict[str, str],
    *,
    restart: bool,
    cutoff: str | None = None,
) -> tuple[Checkpoint, bool]:
    """The checkpoint to run with and whether it resumes an earlier run.

    A stored checkpoint is resumed unless ``restart``; it must match the input and ``options``
    (``CheckpointError`` otherwise). ``cutoff`` is recorded in a new checkpoint only.
    """
    fingerprint = InputFingerprint.of(input_path)
    if store is not None and store.exists() and not restart:
        checkpoint = store.load()
        checkpoint.check_compatible(fingerprint, options)
        return checkpoint, True
    fresh = Checkpoint(
        input=fingerprint,
        options=dict(options),
        counters=dict.fromkeys(COUNTERS, 0),
        cutoff=cutoff,
        run_tag=secrets.token_hex(RUN_TAG_BYTES),
    )
    return fresh, False


class MigrationRun:
    """One run over one input (see the module docstring); ``store`` None is a dry run (nothing saved)."""

    def __init__(
        self,
        *,
        input_path: Path,
        fmt: InputFormat,
        mapper: RowMapper,
        sink: Sink,
        checkpoint: Checkpoint,
        store: CheckpointFile | None,
        rejects: Rejects,
        progress: Progress | None = None,
        hook: Hook | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.input_path, self.fmt, self.mapper, self.sink = input_path, fmt, mapper, sink
        self.cp, self.store, self.rejects = checkpoint, store, rejects
        self.progress, self.hook, self.monotonic = progress, hook, monotonic
        self.counters = {name: checkpoint.counters.get(name, 0) for name in COUNTERS}
        self.position = checkpoint.position
        self._open: dict[str, OpenBatch] = {}
        self._next_seq = max((b.seq for b in checkpoint.batches), default=0) + 1

    def run(self, resumed: bool = False) -> RunResult:
        started = self.monotonic()
        cp = self.cp
        self.sink.prepare({b.name for b in cp.batches if b.name})
        for batch in cp.batches:
            if batch.stage in ("written", "sent"):
                self._finish(batch)
        if cp.done:
            return self._result(started, resumed, already_done=True)
        replay_groups, replay_until = dict(cp.pending_from), cp.position.offset
        cp.pending_from = {}
        start = min([*replay_groups.values(), cp.position], key=lambda mark: mark.offset)
        try:
            for index, row in enumerate(read_rows(self.input_path, self.fmt, start.offset, start.line)):
                if row.start < replay_until:
                    self._replay(row, replay_groups)
                    continue
                self.position = Mark(offset=row.end, line=row.next_line)  # saved only once the row is taken
                self._take(row)
                if self.progress is not None and index % PROGRESS_EVERY_ROWS == 0:
                    self.progress.update(row.end, self.counters)
            for group in list(self._open):
                self._deliver(group)
        except BaseException:
            for open_batch in self._open.values():
                open_batch.abort()
            self._open.clear()
            raise
        cp.done = True
        self._save("done")
        return self._result(started, resumed, already_done=False)

    # --- rows ------------------------------------------------------------------------------------------

    def _take(self, row: SourceRow) -> None:
        self.counters["read"] += 1
        outcome = self.mapper(row)
        if isinstance(outcome, Rejected):
            self._reject(row.line, "input", outcome.reasons)
        elif isinstance(outcome, Skipped):
            self.counters[outcome.counter] = self.counters.get(outcome.counter, 0) + 1
        else:
            self._add(outcome, row, replaying=False)

    def _replay(self, row: SourceRow, groups: Mapping[str, Mark]) -> None:
        """A row counted before the interruption: only re-added to its group's rebuilt open batch."""
        if row.error is not None:
            return
        outcome = self.mapper(row)
        if isinstance(outcome, Mapped):
            mark = groups.get(outcome.group)
            if mark is not None and row.start >= mark.offset:
                self._add(outcome, row, replaying=True)

    def _add(self, outcome: Mapped, row: SourceRow, *, replaying: bool) -> None:
        batch = self._open.get(outcome.group)
        if batch is None:
            batch = self._open[outcome.group] = self.sink.open(outcome.group, self._next_seq)
            self._next_seq += 1
            self.cp.pending_from[outcome.group] = Mark(offset=row.start, line=row.line)
        try:
            batch.add(outcome.record, row.line)
        except RecordError as exc:
            if not replaying:
                self._reject(row.line, "file", [str(exc)])
            return
        if batch.is_full:
            self._deliver(outcome.group)

    def _reject(self, line: int, stage: Literal["input", "file", "engage"], reasons: list[str]) -> None:
        self.rejects.add(line, stage, reasons)
        self.counters["failed" if stage == "engage" else "rejected"] += 1

    # --- batches ---------------------------------------------------------------------------------------

    def _deliver(self, group: str) -> None:
        batch = self._open.pop(group)
        self.cp.pending_from.pop(group, None)
        if batch.count == 0:
            batch.abort()
            return
        record = batch.close()
        self.cp.batches.append(record)
        if self.sink.unit == "files":
            self.counters["written"] += record.rows
            self.counters["files"] += 1
        else:
            self.counters["sent"] += record.rows
            self.counters["batches"] += 1
        if record.refused is not None:
            for line in record.lines:
                self._reject(line, "engage", [record.refused])
            record.lines = []
        self._save("closed")
        if record.stage != "done":
            self._finish(record)

    def _finish(self, record: BatchRecord) -> None:
        for line, reason in self.sink.finish(record):
            self._reject(line, "engage", [reason])
        if record.stage == "uploaded":
            self.counters["uploaded"] += 1
        if record.stage == "done":
            record.lines = []  # the checkpoint stays small
        self._save("finished")

    def _save(self, stage: SaveStage) -> None:
        cp = self.cp
        cp.position = self.position
        cp.counters = dict(self.counters)
        cp.rejects_bytes = self.rejects.sync()
        if self.store is not None:
            self.store.save(cp)
        if self.progress is not None:
            self.progress.update(self.position.offset, self.counters)
        if self.hook is not None:
            self.hook(stage, cp)

    def _result(self, started: float, resumed: bool, *, already_done: bool) -> RunResult:
        return RunResult(
            counters=dict(self.counters),
            elapsed_s=self.monotonic() - started,
            resumed=resumed,
            already_done=already_done,
            checkpoint=self.cp,
        )
