"""When to try again after an upload failed because the server was unavailable.

Voyado asks the sender to retry while its file server is down. The schedule backs off from
half a minute to ten minutes and then stays at ten minutes for as long as the outage lasts.
Only :class:`~fallback.uploaders.errors.UploadUnavailable` follows this schedule;
:class:`~fallback.uploaders.errors.UploadRejected` needs an operator.
"""

from __future__ import annotations

from typing import Final

UPLOAD_RETRY_SCHEDULE_S: Final[tuple[float, ...]] = (30.0, 60.0, 120.0, 300.0, 600.0)
"""Delay before the next attempt after the 1st, 2nd, ... consecutive failure; the last repeats."""


def next_upload_attempt(failures: int) -> float:
    """Seconds to wait before the next attempt after ``failures`` consecutive failures (0: now)."""
    if failures < 0:
        raise ValueError("failures must be >= 0")
    if failures == 0:
        return 0.0
    return UPLOAD_RETRY_SCHEDULE_S[min(failures, len(UPLOAD_RETRY_SCHEDULE_S)) - 1]
