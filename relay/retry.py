"""The task retry ladder: Voyado's advice (10 s, 30 s, 60 s, 300 s), extended to 900 s and 1800 s.

Retries come late on purpose: a slow Engage is more likely loaded than lost, and short intervals add load.
Each step gets a small positive jitter so that a burst of failures does not come back as a burst.
Every countdown must stay below the broker's visibility timeout, or Redis re-delivers the message while
it waits; `check_ladder` refuses a ladder that breaks this and the worker will not start with one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

RETRY_LADDER_S: tuple[float, ...] = (10, 30, 60, 300, 900, 1800)
RETRY_JITTER_FRACTION = 0.1  # up to +10 % on each step, never negative
BROKER_VISIBILITY_TIMEOUT_S = 7200  # 2 h: above the longest step plus its jitter
CONTACT_BUSY_RETRY_S = 1.0  # another worker holds the contact: come back soon, not on the ladder
LADDER_ENV = "ENGAGE_RELAY_RETRY_LADDER_S"


class LadderError(ValueError):
    """A retry ladder that cannot be used (empty, negative, or past the visibility timeout)."""


def parse_ladder(text: str) -> tuple[float, ...]:
    """`"10,30,60"` -> (10.0, 30.0, 60.0)."""
    try:
        steps = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise LadderError(f"{LADDER_ENV} must be comma-separated seconds, got {text!r}") from None
    if not steps:
        raise LadderError(f"{LADDER_ENV} is empty")
    return steps


def check_ladder(steps: Sequence[float], visibility_timeout_s: float = BROKER_VISIBILITY_TIMEOUT_S) -> None:
    for step in steps:
        if step < 0:
            raise LadderError(f"retry step {step} s is negative")
        if step * (1 + RETRY_JITTER_FRACTION) >= visibility_timeout_s:
            raise LadderError(
                f"retry step {step} s (plus jitter) reaches the broker visibility timeout of "
                f"{visibility_timeout_s} s: Redis would re-deliver the task while it waits"
            )


def countdown_for(
    attempt: int, ladder: Sequence[float], *, at_least_s: float = 0.0, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retry number `attempt` (0-based), or None when the ladder is exhausted."""
    if attempt >= len(ladder):
        return None
    step = max(ladder[attempt], at_least_s)
    jitter = (rng or random).uniform(0, step * RETRY_JITTER_FRACTION)
    return step + jitter
