"""The retry schedule for an unreachable file server."""

from __future__ import annotations

import pytest

from fallback.uploaders import UPLOAD_RETRY_SCHEDULE_S, next_upload_attempt


@pytest.mark.parametrize(
    ("failures", "delay_s"),
    [(0, 0.0), (1, 30.0), (2, 60.0), (3, 120.0), (4, 300.0), (5, 600.0), (6, 600.0), (1000, 600.0)],
)
def test_backs_off_then_stays_at_ten_minutes(failures: int, delay_s: float) -> None:
    assert next_upload_attempt(failures) == delay_s


def test_schedule_never_shrinks() -> None:
    assert list(UPLOAD_RETRY_SCHEDULE_S) == sorted(UPLOAD_RETRY_SCHEDULE_S)


def test_negative_failures_are_a_bug() -> None:
    with pytest.raises(ValueError, match="failures"):
        next_upload_attempt(-1)
