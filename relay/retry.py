"""The retry ladder and the other waits, as policy: Voyado's advice (10 s, 30 s, 60 s, 300 s), extended
to 900 s and 1800 s.

Retries come late on purpose: a slow Engage is more likely loaded than lost, and short intervals add load.
Each step gets a small positive jitter so that a burst of failures does not come back as a burst.
Every wait is parked in the schedule (relay/schedule.py), never as a Celery countdown, so a step may be
as long as it likes: the broker keeps no copy of a delivered message, and the schedule's lease re-drives
one a killed worker held after ``REDRIVE_AFTER_S``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from engage.ratelimit import Lane

RETRY_LADDER_S: tuple[float, ...] = (10, 30, 60, 300, 900, 1800)
RETRY_JITTER_FRACTION = 0.1  # up to +10 % on each step, never negative
REDRIVE_AFTER_S = 120.0  # a job sent and neither settled nor parked within this is sent again
HOLD_RECHECK_S = 5.0  # a held job is looked at again this often (none is sent while the breaker is open)
MAX_RATE_WAIT_S: dict[Lane, float] = {"read": 1.0, "live": 5.0, "backlog": 1.0}
"""Longest a call waits in a worker thread for its rate-limit slot; past it, the job is parked instead
(a read is given its own deadline by the read path)."""
LADDER_ENV = "ENGAGE_RELAY_RETRY_LADDER_S"


class LadderError(ValueError):
    """A retry ladder that cannot be used (empty or negative)."""


def parse_ladder(text: str) -> tuple[float, ...]:
    """`"10,30,60"` -> (10.0, 30.0, 60.0)."""
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise LadderError(f"{LADDER_ENV} must be comma-separated seconds, got {text!r}") from None
    if not steps:
        raise LadderError(f"{LADDER_ENV} is empty")
    return steps


def check_ladder(steps: Sequence[float]) -> None:
    for step in steps:
        if step < 0:
            raise LadderError(f"retry step {step} s is negative")


def countdown_for(
    attempt: int, ladder: Sequence[float], *, at_least_s: float = 0.0, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retry number `attempt` (0-based), or None when the ladder is exhausted."""
    if attempt >= len(ladder):
        return None
    step = max(ladder[attempt], at_least_s)
    jitter = (rng or random).uniform(0, step * RETRY_JITTER_FRACTION)
    return step + jitter
