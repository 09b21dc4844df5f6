"""The retry ladder: Voyado's intervals, positive jitter, the env override and its check."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from relay.retry import (
    RETRY_JITTER_FRACTION,
    RETRY_LADDER_S,
    LadderError,
    check_ladder,
    countdown_for,
    parse_ladder,
)


def test_the_default_ladder_is_voyados_extended() -> None:
    assert RETRY_LADDER_S == (10, 30, 60, 300, 900, 1800)
    check_ladder(RETRY_LADDER_S)


@pytest.mark.parametrize("attempt", range(len(RETRY_LADDER_S)))
def test_each_step_waits_its_interval_plus_small_positive_jitter(attempt: int) -> None:
    rng = random.Random(attempt)
    for _ in range(50):
        countdown = countdown_for(attempt, RETRY_LADDER_S, rng=rng)
        assert countdown is not None
        step = RETRY_LADDER_S[attempt]
        assert step <= countdown <= step * (1 + RETRY_JITTER_FRACTION)


def test_the_ladder_ends_and_a_429_waits_at_least_the_cooldown() -> None:
    assert countdown_for(len(RETRY_LADDER_S), RETRY_LADDER_S) is None
    countdown = countdown_for(0, RETRY_LADDER_S, at_least_s=45)
    assert countdown is not None and countdown >= 45


def test_an_override_is_parsed_and_checked() -> None:
    assert parse_ladder("1, 2,5") == (1.0, 2.0, 5.0)
    with pytest.raises(LadderError, match="comma-separated"):
        parse_ladder("1,two")
    with pytest.raises(LadderError, match="empty"):
        parse_ladder(" , ")
    with pytest.raises(LadderError, match="negative"):
        check_ladder((-1,))


def test_a_step_of_hours_is_fine() -> None:
    # Every wait is parked in the relay's schedule, not in Celery: nothing of the broker bounds a step
    check_ladder((10, 3 * 3600))


def test_the_worker_refuses_to_start_with_a_bad_ladder_in_one_line() -> None:
    env = {"ENGAGE_RELAY_RETRY_LADDER_S": "10,-5", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "workers.cli", "worker"]
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "negative" in result.stderr
    assert "Traceback" not in result.stderr
