"""Publish the demo's waves and follow their outcomes on the outcomes stream until each event settles.

An event is settled when its last outcome is final (held is not; a duplicate never replaces a real
outcome). An event with no final outcome after `SETTLE_TIMEOUT_S` is dead-lettered when the dead letters
hold it (dead-lettering is no outcome: the event waits there for an operator), else lost: the demo lists
it and, with DEMO_ONCE=1, exits non-zero. A rejection is a final outcome, never a loss.

The last wave is the outage scene (`OutageScene`): Engage is switched down, the wave is published, the
tenant's breaker opens and holds its events; its receipts spill to a file that Engage imports; then
Engage comes back and the rest drains through the API. `OutageReport` says what was seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fallback.deadletters import RedisDeadLetterStore
from relay.outcomes import Outcome
from relay.state import TenantState
from schemas.publish import publish_many
from workers.demo.data import Envelope, Wave

SETTLE_TIMEOUT_S = 60.0
OUTAGE_TIMEOUT_S = 60.0  # how long the scene waits for the spill to be imported before Engage comes back
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


@dataclass(frozen=True)
class OutageScene:
    """The outage wave and how to stage it against the demo's stack."""

    wave: Wave
    tenant: str
    filed: frozenset[str]  # event keys expected to go by file
    switch: Callable[[bool], None]  # Engage down (True) or back (False)
    look: Callable[[], TenantState]  # the tenant as `engage-relay status` shows it
    imports: Callable[[], list[dict[str, Any]]]  # Engage's import log for the tenant's folder


@dataclass
class OutageReport:
    tenant: str
    down_s: float = 0.0
    held: TenantState | None = None  # the tenant while Engage was down, held (first look)
    held_at: float = 0.0  # when that look was taken (epoch seconds)
    imports: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    published: list[str] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # event key -> event type
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    dead_lettered: list[str] = field(default_factory=list)  # no outcome: in the dead letters
    lost: list[str] = field(default_factory=list)  # no outcome, nowhere
    seconds: float = 0.0
    outage: OutageReport | None = None


def run_waves(
    client: redis.Redis,
    waves: list[Wave],
    *,
    events_stream: str,
    outcomes_stream: str,
    console: Console,
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
    still_running: Callable[[], None] = lambda: None,
    outage: OutageScene | None = None,
) -> DemoResult:
    """Publish each wave once the previous one settled (or timed out), then stage the outage; `still_running`
    raises when a child died, so a broken stack fails fast rather than after the timeout."""
    result = DemoResult()
    watcher = OutcomeWatcher(client, outcomes_stream)
    total = sum(len(w) for w in waves) + (len(outage.wave) if outage else 0)
    count = len(waves) + (1 if outage else 0)
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

        def wait_for(wanted: set[str], timeout_s: float, also: Callable[[], bool] = lambda: True) -> None:
            deadline = time.monotonic() + timeout_s
            while True:
                watcher.poll()
                progress.update(bar, completed=len(watcher.settled(set(result.published))))
                done = also()  # every time: it may record what it sees
                if (wanted <= watcher.settled(wanted) and done) or time.monotonic() >= deadline:
                    return
                still_running()
                time.sleep(POLL_INTERVAL_S)

        def publish(number: int, wave: Wave, what: str = "") -> list[str]:
            keys = [event_key(e) for e in wave]
            result.published += keys
            result.types.update({event_key(e): str(e.get("type")) for e in wave})
            publish_many(client, wave, events_stream)
            progress.update(
                bar, description=f"wave {number}/{count}: {len(result.published)} published{what}"
            )
            return keys

        for number, wave in enumerate(waves, start=1):
            wait_for(set(publish(number, wave)), settle_timeout_s)
        if outage is not None:
            result.outage = _stage_outage(outage, count, publish, wait_for, settle_timeout_s)
        progress.update(bar, description=f"all {count} waves: {len(result.published)} published")
    watcher.poll()
    everything = set(result.published)
    settled = watcher.settled(everything)
    result.outcomes = {k: watcher.latest[k] for k in settled}
    unsettled = [k for k in result.published if k not in settled]
    letters = RedisDeadLetterStore(client)
    result.dead_lettered = [k for k in unsettled if letters.get(k) is not None]  # waiting for an operator
    result.lost = [k for k in unsettled if k not in result.dead_lettered]
    result.seconds = time.monotonic() - started
    return result


def _stage_outage(
    scene: OutageScene,
    number: int,
    publish: Callable[[int, Wave, str], list[str]],
    wait_for: Callable[[set[str], float, Callable[[], bool]], None],
    settle_timeout_s: float,
) -> OutageReport:
    """Engage down, the wave published, held, the receipts spilled and imported; Engage back, the rest
    drains. Engage is back on every way out."""
    report = OutageReport(scene.tenant)

    def held_and_imported() -> bool:
        if report.held is None:
            look = scene.look()
            report.held, report.held_at = (look, time.time()) if look.on_hold else (None, 0.0)
        report.imports = scene.imports()
        return report.held is not None and bool(report.imports)

    scene.switch(True)
    down_at = time.monotonic()
    try:
        selling = f" while Engage is down ({scene.tenant}'s stores keep selling)"
        report.keys = publish(number, scene.wave, selling)
        wait_for(set(scene.filed), OUTAGE_TIMEOUT_S, held_and_imported)
    finally:
        scene.switch(False)
        report.down_s = time.monotonic() - down_at
    wait_for(set(report.keys), settle_timeout_s, lambda: True)
    return report
