"""Outcomes over the last day per tenant, by hour, for the status chart (an inline SVG), and the last time
each event type was seen (for the silence alerts). One bounded read of the outcome stream."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import cast

import redis

from relay.keys import OUTCOMES_STREAM

DAY_S = 86_400
HOUR_S = 3600
MAX_READ = 50_000
CHART_OUTCOMES = ("applied", "delivered_by_file", "dead_lettered", "rejected")
CHART_COLOURS = {
    "applied": "#2f855a",
    "delivered_by_file": "#2b6cb0",
    "dead_lettered": "#c53030",
    "rejected": "#b7791f",
}


@dataclass
class History:
    hours: list[dict[str, int]]  # 24 buckets, oldest first: outcome -> count
    last_seen: dict[str, float] = field(default_factory=dict)  # event type -> epoch seconds
    complete: bool = True

    def last_hour(self) -> dict[str, int]:
        return self.hours[-1] if self.hours else {}

    def day(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for bucket in self.hours:
            for kind, n in bucket.items():
                total[kind] = total.get(kind, 0) + n
        return total


def read_history(
    client: redis.Redis, tenant: str, *, stream: str = OUTCOMES_STREAM, now_s: float | None = None
) -> History:
    now = time.time() if now_s is None else now_s
    since_ms = int((now - DAY_S) * 1000)
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]],
        client.xrevrange(stream, max="+", min=f"{since_ms}-0", count=MAX_READ),
    )
    hours: list[dict[str, int]] = [{} for _ in range(24)]
    last_seen: dict[str, float] = {}
    for entry_id, fields in entries:
        try:
            record = json.loads(fields[b"outcome"])
        except (KeyError, ValueError):
            continue
        if record.get("tenant") != tenant:
            continue
        at = int(entry_id.split(b"-")[0]) / 1000
        slot = 23 - min(23, int((now - at) // HOUR_S))
        kind = str(record.get("outcome", "unknown"))
        hours[slot][kind] = hours[slot].get(kind, 0) + 1
        kind_type = str(record.get("type", ""))
        last_seen[kind_type] = max(last_seen.get(kind_type, 0.0), at)
    return History(hours, last_seen, len(entries) < MAX_READ)


def chart_bars(history: History, *, width: int = 720, height: int = 160) -> list[dict[str, object]]:
    """Stacked bars for the inline SVG: one per hour, one rectangle per outcome kind."""
    totals = [sum(b.get(k, 0) for k in CHART_OUTCOMES) for b in history.hours]
    top = max([*totals, 1])
    slot = width / 24
    bars: list[dict[str, object]] = []
    for i, bucket in enumerate(history.hours):
        y = float(height)
        for kind in CHART_OUTCOMES:
            n = bucket.get(kind, 0)
            if not n:
                continue
            h = n / top * (height - 10)
            y -= h
            bars.append(
                {
                    "x": round(i * slot + 2, 1),
                    "y": round(y, 1),
                    "w": round(slot - 4, 1),
                    "h": round(h, 1),
                    "colour": CHART_COLOURS[kind],
                    "title": f"{n} {kind.replace('_', ' ')}",
                }
            )
    return bars
