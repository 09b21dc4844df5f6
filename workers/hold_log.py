"""The logs' view of each tenant's hold: when it begins, while it lasts, when it ends, in plain words.

`HoldLog` is called now and then by the ingest process (with the mover's housekeeping) with each
tenant's state (`relay.state.read_tenants`, bounded reads) and logs:

- `engage.tenant.hold.started` when a tenant's events start to wait: its cause in plain words (the
  breaker's, e.g. "Engage refused the API key (401): check the tenant's key", or who paused it); an
  error when the cause needs a person (the key refused, the system misconfigured), else a warning;
- `engage.tenant.hold.cause_changed` when the cause changes during a hold (an outage, then a refused key);
- `engage.tenant.hold.continues` every `HOLD_REMINDER_S` while it lasts, with how long and how many wait;
- `engage.tenant.hold.ended` once the tenant's events flow again (they drain through the backlog lane).

Every ingest process logs what it sees; with several, each says so once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog

from relay.state import TenantState

log = structlog.get_logger("engage.tenant")

HOLD_REMINDER_S: Final = 300.0
NEEDS_A_PERSON: Final = frozenset({"key_refused", "misconfigured"})
"""Causes that do not go away by themselves: the hold drains once someone fixes the key or the system."""


@dataclass
class _Seen:
    started_at: float
    cause: str
    reminded_at: float


def hold_cause(t: TenantState) -> str:
    """The hold's cause in plain words: the breaker's, and who paused the tenant."""
    parts = []
    if t.paused_by is not None:
        parts.append(f"paused by {t.paused_by}")
    if t.breaker != "closed":
        parts.append(t.cause or "Engage failed")
    return "; ".join(parts)


class HoldLog:
    def __init__(
        self,
        read: Callable[[], Sequence[TenantState]],
        *,
        clock: Callable[[], float] = time.time,
        reminder_s: float = HOLD_REMINDER_S,
    ) -> None:
        self._read = read
        self._clock = clock
        self._reminder_s = reminder_s
        self._seen: dict[str, _Seen] = {}

    def __call__(self) -> None:
        now = self._clock()
        states = list(self._read())
        for t in states:
            self._look(t, now)
        for name in set(self._seen) - {t.name for t in states}:
            del self._seen[name]  # a tenant no longer served

    def _look(self, t: TenantState, now: float) -> None:
        seen = self._seen.get(t.name)
        if not t.on_hold:
            if seen is not None:
                del self._seen[t.name]
                log.info(
                    "engage.tenant.hold.ended",
                    tenant=t.name,
                    held_s=round(now - seen.started_at, 1),
                    detail="its events flow again; held ones drain through the backlog lane",
                )
            return
        cause = hold_cause(t)
        fields: dict[str, Any] = {
            "tenant": t.name,
            "cause": cause,
            "cause_kind": t.cause_kind,
            "breaker": t.breaker,
            "held": t.held,
            "held_s": round(t.held_s(now), 1),
        }
        if seen is None:
            self._seen[t.name] = _Seen(t.held_since() or now, cause, now)
            emit = log.error if t.cause_kind in NEEDS_A_PERSON else log.warning
            emit("engage.tenant.hold.started", **fields)
        elif cause != seen.cause:
            seen.cause, seen.reminded_at = cause, now
            log.warning("engage.tenant.hold.cause_changed", **fields)
        elif now - seen.reminded_at >= self._reminder_s:
            seen.reminded_at = now
            log.warning("engage.tenant.hold.continues", **fields)
