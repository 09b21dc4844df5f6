"""What the mover does now and then besides moving: personal data leaves Redis at the end of its retention,
and long outages spill to files.

- Outcomes (and with them each event's trail, which expires by itself) are kept `Retention.outcomes_s`,
  at most `outcomes_maxlen` entries; rejections `rejected_s`, at most `rejected_maxlen`. The events stream
  needs no trimming here: ingest deletes each entry once its event is admitted.
- A tenant whose outage outlasts its `spill_after_s` spills (relay/spill/outage.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import structlog

from relay.runtime import Runtime
from relay.spill.outage import spill_long_outages

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Retention:
    outcomes_s: float
    outcomes_maxlen: int
    rejected_s: float
    rejected_maxlen: int


TRIM_EVERY_S: Final = 60.0


class Housekeeper:
    """Called by the mover every few seconds: spills at once when due, trims at most every minute."""

    def __init__(self, rt: Runtime, retention: Retention, send_sweep: Callable[[str, float], None]) -> None:
        self._rt = rt
        self._retention = retention
        self._send_sweep = send_sweep
        self._next_trim = 0.0

    def __call__(self) -> None:
        rt, retention = self._rt, self._retention
        for tenant, spilled in spill_long_outages(rt).items():
            log.warning("fallback.spill.started", tenant=tenant, events=spilled)
            self._send_sweep(tenant, 0.0)
        if time.monotonic() >= self._next_trim:
            rt.outcomes.trim(retention_s=retention.outcomes_s, maxlen=retention.outcomes_maxlen)
            rt.rejected.trim(retention_s=retention.rejected_s, maxlen=retention.rejected_maxlen)
            self._next_trim = time.monotonic() + TRIM_EVERY_S
