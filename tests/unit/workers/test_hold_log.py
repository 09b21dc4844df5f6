"""The hold log: a tenant's hold is logged as it begins (with its cause), while it lasts, and as it ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from relay.state import LaneState, TenantState
from workers.hold_log import HoldLog

KEY_REFUSED = "Engage refused the API key (401): check the tenant's key"


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """Another test may have configured structlog to drop info lines (a command's own set-up)."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def tenant(
    breaker: str = "closed", cause: str | None = None, kind: str | None = None, **more: object
) -> TenantState:
    return TenantState(
        name="acme",
        breaker=breaker,
        rate_budget_per_s=40,
        cooldown_s=0,
        cause=cause,
        cause_kind=kind,
        outage_since=1000.0 if breaker != "closed" else None,
        lanes={"live": LaneState(0, 0, 0), "backlog": LaneState(5, 2, 0)},
        **more,  # type: ignore[arg-type]
    )


class Sequence:
    def __init__(self) -> None:
        self.now = 1000.0
        self.states: list[TenantState] = [tenant()]


def test_a_hold_is_logged_once_when_it_begins_then_reminded_then_ended() -> None:
    # Given a tenant that is fine, then held by a refused key for ten minutes, then fine again
    seq = Sequence()
    hold_log = HoldLog(lambda: seq.states, clock=lambda: seq.now, reminder_s=300)
    with capture_logs() as logs:
        hold_log()
        seq.states = [tenant("open", KEY_REFUSED, "key_refused")]
        for step in range(0, 601, 5):  # called every 5 s, as the mover's housekeeping does
            seq.now = 1001.0 + step
            hold_log()
        seq.states = [tenant()]
        seq.now += 5
        hold_log()
    events = [(e["event"], e["log_level"]) for e in logs]
    # Then: one start (an error: a refused key needs a person), a reminder every 5 minutes, one end
    assert events == [
        ("engage.tenant.hold.started", "error"),
        ("engage.tenant.hold.continues", "warning"),
        ("engage.tenant.hold.continues", "warning"),
        ("engage.tenant.hold.ended", "info"),
    ]
    started = logs[0]
    assert started["cause"] == KEY_REFUSED and started["cause_kind"] == "key_refused"
    assert started["held"] == 7 and started["tenant"] == "acme"
    assert logs[-1]["held_s"] == 606.0  # from the outage's start, not from when it was first seen


def test_an_outage_is_a_warning_and_a_new_cause_is_logged() -> None:
    seq = Sequence()
    hold_log = HoldLog(lambda: seq.states, clock=lambda: seq.now)
    with capture_logs() as logs:
        seq.states = [tenant("open", "Engage answers 503", "server_error")]
        hold_log()
        seq.states = [tenant("half_open", KEY_REFUSED, "key_refused")]
        hold_log()
        hold_log()
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("engage.tenant.hold.started", "warning"),
        ("engage.tenant.hold.cause_changed", "warning"),
    ]
    assert logs[1]["cause"] == KEY_REFUSED


def test_a_pause_is_a_hold_with_who_paused_it() -> None:
    seq = Sequence()
    seq.states = [tenant(paused_by="karin", paused_since=990.0)]
    with capture_logs() as logs:
        HoldLog(lambda: seq.states, clock=lambda: seq.now)()
    assert logs[0]["event"] == "engage.tenant.hold.started"
    assert logs[0]["cause"] == "paused by karin" and logs[0]["held_s"] == 10.0
