"""The rejects file: one JSON object per bad row, `{"line", "stage", "reasons"}`, in input order.

`stage` says where the row failed: `input` (could not be read, validated or mapped), `file` (could
not be written to the import file), `engage` (Engage refused it in a bulk batch).
The file is appended to and can be cut back to the size a checkpoint recorded, so a resumed run
writes every reject exactly once. The dry-run twin keeps the first few in memory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Final, Literal, Protocol

RejectStage = Literal["input", "file", "engage"]
DRY_RUN_SHOWN_REJECTS: Final = 20


class Rejects(Protocol):
    count: int

    def add(self, line: int, stage: RejectStage, reasons: list[str]) -> None: ...

    def sync(self) -> int:
        """Make what was written durable; returns the size to record in a checkpoint."""
        ...

    def close(self) -> None: ...


class RejectsFile:
    """Appends to ``path``, first cut back to ``keep_bytes`` (0 for a fresh run)."""

    def __init__(self, path: Path, keep_bytes: int = 0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a+", encoding="utf-8")
        self._file.truncate(keep_bytes)
        self._file.seek(keep_bytes)
        self.count = 0

    def add(self, line: int, stage: RejectStage, reasons: list[str]) -> None:
        entry = {"line": line, "stage": stage, "reasons": reasons}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1

    def sync(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        return os.fstat(self._file.fileno()).st_size

    def close(self) -> None:
        self._file.close()


class MemoryRejects:
    """Counts every reject and keeps the first ``keep`` (the dry run shows them)."""

    def __init__(self, keep: int = DRY_RUN_SHOWN_REJECTS) -> None:
        self.keep = keep
        self.count = 0
        self.first: list[tuple[int, RejectStage, list[str]]] = []

    def add(self, line: int, stage: RejectStage, reasons: list[str]) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append((line, stage, reasons))

    def sync(self) -> int:
        return 0

    def close(self) -> None:
        return None
