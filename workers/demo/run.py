"""Publish the demo's waves and follow their outcomes on the outcomes stream until each event settles.

An event is settled when its last outcome is final (held is not; a duplicate never replaces a real
outcome). An event with no final outcome after `SETTLE_TIMEOUT_S` is lost: the demo lists it and, with
DEMO_ONCE=1, exits non-zero. A rejection is a final outcome, never a loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import redis
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from relay.outcomes import Outcome
from schemas.publish import publish_many
from workers.demo.data import Envelope, Wave

SETTLE_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.2
READ_BATCH = 1000
FINAL_KINDS = frozenset(
    {"applied", "superseded", "skipped", "duplicate", "rejected", "dead_lettered", "delivered_by_file"}
)


def event_key(envelope: Envelope) -> str:
    return f"{envelope.get('tenant')}:{envelope.get('id')}"


class OutcomeWatcher:
    """Reads the outcomes stream incrementally and keeps the last meaningful outcome per event."""

    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._redis = client
        self._stream = stream
        self._last_id: bytes | None = None
        self.latest: dict[str, Outcome] = {}

    def poll(self) -> None:
        while True:
            start = b"(" + self._last_id if self._last_id else "-"
            entries = cast(
                list[tuple[bytes, dict[bytes, bytes]]],
                self._redis.xrange(self._stream, min=start, count=READ_BATCH),
            )
            for entry_id, fields in entries:
                self._last_id = entry_id
                raw = fields.get(b"outcome")
                if raw is None:
                    continue
                outcome = Outcome.model_validate_json(raw)
                key = f"{outcome.tenant}:{outcome.event_id}"
                if outcome.outcome == "duplicate" and key in self.latest:
                    continue
                self.latest[key] = outcome
            if len(entries) < READ_BATCH:
                return

    def settled(self, keys: set[str]) -> set[str]:
        return {k for k in keys if k in self.latest and self.latest[k].outcome in FINAL_KINDS}


@dataclass
class DemoResult:
    published: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # event key -> event type
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_waves(
    client: redis.Redis,
    waves: list[Wave],
    *,
    events_stream: str,
    outcomes_stream: str,
    console: Console,
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
    still_running: Callable[[], None] = lambda: None,
) -> DemoResult:
    """Publish each wave once the previous one settled (or timed out); `still_running` raises when a
    child died, so a broken stack fails fast rather than after the timeout."""
    result = DemoResult()
    watcher = OutcomeWatcher(client, outcomes_stream)
    total = sum(len(w) for w in waves)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("settled"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("publishing", total=total)
        for number, wave in enumerate(waves, start=1):
            keys = [event_key(e) for e in wave]
            result.published += keys
            result.types.update({event_key(e): str(e.get("type")) for e in wave})
            publish_many(client, wave, events_stream)
            progress.update(bar, description=f"wave {number}/{len(waves)}: {len(result.published)} published")
            wanted = set(keys)
            deadline = time.monotonic() + settle_timeout_s
            while True:
                watcher.poll()
                done = watcher.settled(set(result.published))
                progress.update(bar, completed=len(done))
                if wanted <= done or time.monotonic() >= deadline:
                    break
                still_running()
                time.sleep(POLL_INTERVAL_S)
        progress.update(bar, description=f"all {len(waves)} waves: {len(result.published)} published")
    watcher.poll()
    everything = set(result.published)
    settled = watcher.settled(everything)
    result.outcomes = {k: watcher.latest[k] for k in settled}
    result.lost = [k for k in result.published if k not in settled]
    result.seconds = time.monotonic() - started
    return result
