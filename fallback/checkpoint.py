"""Checkpoints of long file runs (migration, export): where to resume, what was already delivered.

A checkpoint is one small JSON document, replaced atomically (written to a temporary file in the same
folder, fsynced, renamed over the old one, folder fsynced), so a run killed at any instant leaves either
the previous checkpoint or the new one, never a torn file.

What it holds (all plain data, no secrets):

- ``input``: the input file's size and a hash of its first bytes (:class:`InputFingerprint`), so a
  changed input is never resumed as if it were the same;
- ``options``: the run's options that change its output (kind, tenant, via, batch size...); resuming
  with other options is refused;
- ``position`` / ``line``: the byte offset and line number read so far; every row before them has been
  counted (``counters``) and, if bad, written to the rejects file (whose size is ``rejects_bytes``);
- ``pending_from``: per group (matchKeyType, contact type), the offset and line of the group's first row
  not yet in a delivered batch; a resumed run re-reads from the smallest of them and re-adds only those
  rows, so nothing is sent twice and nothing is lost;
- ``batches``: every batch (file or bulk request) that left the run, with its stage
  (``written`` -> ``uploaded`` for files, ``sent`` -> ``done`` for bulk requests);
- ``cutoff``: a time bound fixed at the first run, so a resumed run applies the same one;
- ``run_tag``: a short random tag in the run's file names, so its files are told from any other's;
- ``done``: the run finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

CHECKPOINT_VERSION: Final = 1
FINGERPRINT_HEAD_BYTES: Final = 1_048_576

BatchStage = Literal["written", "uploaded", "sent", "done"]


class CheckpointError(Exception):
    """A checkpoint that cannot be used for this run; the message says why and what to do."""


class InputFingerprint(BaseModel):
    """Enough of an input file to notice that it changed: size and a hash of its head."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: int
    head_sha256: str

    @classmethod
    def of(cls, path: Path) -> InputFingerprint:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            digest.update(handle.read(FINGERPRINT_HEAD_BYTES))
        return cls(size=path.stat().st_size, head_sha256=digest.hexdigest())


class Mark(BaseModel):
    """A place in the input: byte offset and 1-based line number of the row that starts there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: int
    line: int


class BatchRecord(BaseModel):
    """One batch that left the run: an import file or a bulk request."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    group: str
    rows: int
    stage: BatchStage
    name: str | None = None  # file name (files)
    batch_id: str | None = None  # Engage batch id (bulk)
    lines: list[int] = Field(default_factory=list)  # input line of each row (bulk: to report row errors)
    refused: str | None = None  # why Engage refused the whole bulk request (its rows are rejects)


class Checkpoint(BaseModel):
    """The state of one run; see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    version: int = CHECKPOINT_VERSION
    input: InputFingerprint
    options: dict[str, str]
    position: Mark = Field(default_factory=lambda: Mark(offset=0, line=0))
    pending_from: dict[str, Mark] = Field(default_factory=dict)
    counters: dict[str, int] = Field(default_factory=dict)
    rejects_bytes: int = 0
    batches: list[BatchRecord] = Field(default_factory=list)
    cutoff: str | None = None
    run_tag: str = ""
    done: bool = False

    @property
    def resume_from(self) -> Mark:
        """Where a resumed run starts reading: the oldest row not yet delivered, else the position."""
        marks = [*self.pending_from.values(), self.position]
        return min(marks, key=lambda mark: mark.offset)

    def check_compatible(self, fingerprint: InputFingerprint, options: dict[str, str]) -> None:
        if self.version != CHECKPOINT_VERSION:
            raise CheckpointError(f"checkpoint version {self.version} is not {CHECKPOINT_VERSION}; --restart")
        if self.input != fingerprint:
            raise CheckpointError("the input file changed since the checkpoint was written; use --restart")
        changed = sorted(k for k in {*self.options, *options} if self.options.get(k) != options.get(k))
        if changed:
            raise CheckpointError(
                f"the checkpoint was written with other options ({', '.join(changed)}); "
                "run with the same options, another --out, or --restart"
            )


class CheckpointFile:
    """Loads and atomically saves one :class:`Checkpoint`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> Checkpoint:
        try:
            return Checkpoint.model_validate_json(self.path.read_bytes())
        except (OSError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {self.path} cannot be read ({type(exc).__name__}); --restart"
            ) from None

    def save(self, checkpoint: Checkpoint) -> None:
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(checkpoint.model_dump(mode="json"), separators=(",", ":")).encode()
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temp).replace(self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(folder)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
