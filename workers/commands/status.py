"""`engage-relay status`: the relay at a glance, per tenant, from Redis (bounded reads); `--json` too.

Per tenant: whether its events are held and why, in plain words (the breaker's cause, or who paused
it), how long, how many events wait in each lane of the schedule (due, waiting, in flight), spilled
events not yet delivered by file, dead letters, budget and cooldown, files pending, the last hour.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from workers.process import current_env

if TYPE_CHECKING:
    from relay.state import RelayState, TenantState

STATUS_REDIS_CONNECT_TIMEOUT_S = 3.0
BREAKER_WORDS = {
    "closed": "closed (calling Engage)",
    "half_open": "half-open (probing)",
    "open": "OPEN (not calling Engage)",
}


def duration_text(seconds: float) -> str:
    """45 -> `45s`, 723 -> `12m 3s`, 7500 -> `2h 5m`."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    return f"{whole // 3600}h {whole % 3600 // 60}m"


def _moment(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _outcomes_text(outcomes: dict[str, int]) -> str:
    if not outcomes:
        return "none"
    return ", ".join(f"{kind} {count}" for kind, count in sorted(outcomes.items(), key=lambda kv: -kv[1]))


def _files_text(t: TenantState) -> str:
    return "no outbox here" if t.files_pending is None else str(t.files_pending)


def _cooldown_text(t: TenantState) -> str:
    text = f"429 cooldown {t.cooldown_s:.1f}s" if t.cooldown_s > 0 else "no cooldown"
    if t.rate_now_per_s is not None:
        text += f", rate lowered to {t.rate_now_per_s:g}/s after a 429"
    return text


def schedule_text(t: TenantState) -> str:
    """`live 2 due, 0 waiting, 4 in flight; backlog 0 due, 12 waiting, 0 in flight`."""
    return "; ".join(
        f"{lane} {c.due} due, {c.waiting} waiting, {c.in_flight} in flight" for lane, c in t.lanes.items()
    )


def hold_text(t: TenantState, now_s: float) -> str | None:
    """Why the tenant's events are held, for how long, and what drains them; None when they are not."""
    if not t.on_hold:
        return None
    since = t.held_since()
    how_long = f" for {duration_text(t.held_s(now_s))} (since {_moment(since)})" if since else ""
    held, per_lane = t.held_in_lanes()
    lanes = ", ".join(f"{lane} {n}" for lane, n in per_lane.items())
    parts = [f"HELD{how_long}: {held} events wait ({lanes})"]
    if t.paused_by is not None:
        parts.append(f"paused by {t.paused_by}; `engage-relay tenants resume {t.name}` lets them drain")
    if t.breaker != "closed":
        cause = t.cause or "Engage failed"
        parts.append(f"{cause}; they drain by themselves once a probe succeeds")
    return "; ".join(parts)


def _summary_lines(state: RelayState) -> list[str]:
    s = state.stream
    lag = "unknown" if s.lag is None else str(s.lag)
    group = (
        f"group {s.group}: lag {lag}, pending {s.pending}, consumers {s.consumers}"
        if s.group_exists
        else f"group {s.group} does not exist yet (no ingest has run)"
    )
    dead = f"{state.dead_letters_total}" + (
        "" if state.dead_letters_complete else " (per tenant: first ones)"
    )
    lines = [
        f"events stream {s.stream}: {s.length} entries; {group}",
        f"dead letters: {dead}; rejected: {state.rejected_total}",
    ]
    if not state.spilled_complete:
        lines.append("spilled events: more than read; pending counts are of the newest ones")
    if not state.outcomes_complete:
        lines.append("outcomes: more in the last hour than read; counts show the newest ones")
    for tenant, outcomes in sorted(state.other_outcomes.items()):
        lines.append(f"outcomes of a tenant not served here, {tenant}: {_outcomes_text(outcomes)}")
    return lines


def render_plain(state: RelayState) -> str:
    lines = _summary_lines(state)
    for t in state.tenants:
        lines.append(
            f"{t.name}: breaker {BREAKER_WORDS.get(t.breaker, t.breaker)}; "
            f"budget {t.rate_budget_per_s:g}/s, {_cooldown_text(t)}; dead letters {t.dead_letters}; "
            f"files pending {_files_text(t)}; last hour: {_outcomes_text(t.outcomes)}"
        )
        hold = hold_text(t, state.read_at)
        if hold is not None:
            lines.append(f"  {t.name} {hold}")
        lines.append(f"  {t.name} schedule: {schedule_text(t)}; spilled, not yet filed: {t.spilled_pending}")
    return "\n".join(lines)


def render_rich(state: RelayState) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for line in _summary_lines(state):
        console.print(line, highlight=False)
    table = Table(title="tenants")
    headers = (
        "tenant",
        "breaker",
        "held",
        "schedule",
        "spilled",
        "budget",
        "dead letters",
        "files",
        "last hour",
    )
    for header in headers:
        table.add_column(header)
    for t in state.tenants:
        breaker = BREAKER_WORDS.get(t.breaker, t.breaker)
        style = {"open": "bold red", "half_open": "yellow"}.get(t.breaker, "green")
        hold = hold_text(t, state.read_at)
        table.add_row(
            t.name,
            f"[{style}]{breaker}[/]",
            f"[bold red]{hold}[/]" if hold else "no",
            schedule_text(t).replace("; ", "\n"),
            str(t.spilled_pending),
            f"{t.rate_budget_per_s:g}/s, {_cooldown_text(t)}",
            str(t.dead_letters),
            _files_text(t),
            _outcomes_text(t.outcomes),
        )
    console.print(table)


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as one JSON document.")
def command(as_json: bool) -> None:
    """Per tenant: held or not and why, the schedule's lanes, dead letters, spill, budget, last hour."""
    from relay.state import read_state, redis_breaker_info

    settings = current_env().settings
    client = current_env().redis_client(connect_timeout_s=STATUS_REDIS_CONNECT_TIMEOUT_S)
    try:  # Redis down or a wrong tenants file: one line (workers.cli.RelayGroup)
        registry = current_env().registry(client)
        state = read_state(
            client,
            list(registry),
            events_stream=settings.events_stream,
            outcomes_stream=settings.outcomes_stream,
            breaker_info=redis_breaker_info(client, settings.breaker_open_s),
        )
    finally:
        client.close()
    document: dict[str, Any] = state.as_dict()
    if as_json:
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif sys.stdout.isatty():
        render_rich(state)
    else:
        click.echo(render_plain(state))
