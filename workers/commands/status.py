"""`engage-relay status`: the relay at a glance, per tenant, from Redis (bounded reads); `--json` too."""

from __future__ import annotations

import json
import sys
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


def _outcomes_text(outcomes: dict[str, int]) -> str:
    if not outcomes:
        return "none"
    return ", ".join(f"{kind} {count}" for kind, count in sorted(outcomes.items(), key=lambda kv: -kv[1]))


def _files_text(t: TenantState) -> str:
    return "no outbox here" if t.files_pending is None else str(t.files_pending)


def _cooldown_text(t: TenantState) -> str:
    return f"429 cooldown {t.cooldown_s:.1f}s" if t.cooldown_s > 0 else "no cooldown"


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
    return "\n".join(lines)


def render_rich(state: RelayState) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for line in _summary_lines(state):
        console.print(line, highlight=False)
    table = Table(title="tenants")
    for header in ("tenant", "breaker", "budget", "cooldown", "dead letters", "files pending", "last hour"):
        table.add_column(header)
    for t in state.tenants:
        breaker = BREAKER_WORDS.get(t.breaker, t.breaker)
        style = {"open": "bold red", "half_open": "yellow"}.get(t.breaker, "green")
        table.add_row(
            t.name,
            f"[{style}]{breaker}[/]",
            f"{t.rate_budget_per_s:g}/s",
            _cooldown_text(t),
            str(t.dead_letters),
            _files_text(t),
            _outcomes_text(t.outcomes),
        )
    console.print(table)


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as one JSON document.")
def command(as_json: bool) -> None:
    """Per tenant: breaker, rate budget and cooldown, dead letters, files pending, last hour's outcomes."""
    from relay.state import read_state

    settings = current_env().settings
    client = current_env().redis_client(connect_timeout_s=STATUS_REDIS_CONNECT_TIMEOUT_S)
    try:  # Redis down or a wrong tenants file: one line (workers.cli.RelayGroup)
        registry = current_env().registry(client)
        state = read_state(
            client,
            list(registry),
            events_stream=settings.events_stream,
            outcomes_stream=settings.outcomes_stream,
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
