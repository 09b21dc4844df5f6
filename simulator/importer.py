"""The file-import watcher (placeholder until the parser module lands)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from simulator.context import Sim


class ImportWatcher:
    def __init__(self, sim: Sim, folder: Path, interval_s: float) -> None:
        self.sim, self.folder, self.interval_s = sim, folder, interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
