"""The demo's summary: outcomes by event type and kind, rejections with reasons, the Engage calls the
simulator received, lost events, and where to look next. Also `summary.json` and one plain line
(`demo summary: published=... lost=...`) that scripts and the first-run test read.

Never shows an API key or the FTP password; the Flower demo login is shown on purpose.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from workers.demo.run import DemoResult
from workers.demo.stack import DemoStack

SUMMARY_KINDS = (
    "applied",
    "superseded",
    "skipped",
    "duplicate",
    "rejected",
    "dead_lettered",
    "delivered_by_file",
)
DETAIL_MAX_CHARS = 300


def counts(result: DemoResult) -> dict[str, int]:
    by_kind: Counter[str] = Counter(o.outcome for o in result.outcomes.values())
    totals = {"published": len(result.published)}
    totals |= {kind: by_kind.get(kind, 0) for kind in SUMMARY_KINDS}
    totals["lost"] = len(result.lost)
    return totals


def summary_line(result: DemoResult) -> str:
    return "demo summary: " + " ".join(f"{k}={v}" for k, v in counts(result).items())


def _outcomes_table(result: DemoResult) -> Table:
    kinds = [k for k in SUMMARY_KINDS if k != "duplicate" or counts(result)["duplicate"]]
    table = Table(title="Outcomes by event type", title_justify="left")
    table.add_column("event type")
    for kind in [*kinds, "lost"]:
        table.add_column(kind, justify="right")
    per_type: dict[str, Counter[str]] = {}
    for key in result.published:
        kind = result.outcomes[key].outcome if key in result.outcomes else "lost"
        per_type.setdefault(result.types.get(key, "?"), Counter())[kind] += 1
    for event_type in sorted(per_type):
        row = per_type[event_type]
        table.add_row(event_type, *(str(row.get(k, 0) or "") for k in [*kinds, "lost"]))
    total = counts(result)
    table.add_row("total", *(str(total[k]) for k in [*kinds, "lost"]), style="bold")
    return table


def _calls_table(tenant: str, state: dict[str, Any]) -> Table:
    table = Table(title=f"Engage calls {tenant}'s Engage received (the simulator)", title_justify="left")
    table.add_column("route")
    table.add_column("answers by status")
    requests: dict[str, dict[str, int]] = state.get("requests", {})
    for route in sorted(requests):
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(requests[route].items()))
        table.add_row(route, statuses)
    return table


def calls_by_route(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Every tenant's Engage calls together, by route and status."""
    calls: dict[str, dict[str, int]] = {}
    for state in states.values():
        for route, by_status in state.get("requests", {}).items():
            summed = calls.setdefault(route, {})
            for status, n in by_status.items():
                summed[status] = summed.get(status, 0) + n
    return calls


def print_summary(
    console: Console, stack: DemoStack, result: DemoResult, states: dict[str, dict[str, Any]] | None
) -> None:
    console.print()
    console.print(_outcomes_table(result))
    tenants = Counter(key.split(":", 1)[0] for key in result.published)
    console.print("by tenant: " + ", ".join(f"{name} {n} events" for name, n in sorted(tenants.items())))
    rejected = [(k, o) for k, o in result.outcomes.items() if o.outcome == "rejected"]
    for key, outcome in rejected:
        console.print(f"[yellow]rejected[/] {key}: {(outcome.detail or '')[:DETAIL_MAX_CHARS]}", markup=True)
    for key, outcome in result.outcomes.items():
        if outcome.outcome == "dead_lettered":
            console.print(f"[red]dead-lettered[/] {key}: {(outcome.detail or '')[:DETAIL_MAX_CHARS]}")
    if result.lost:
        console.print(f"[bold red]lost[/] (no final outcome): {', '.join(result.lost)}")
    if states is not None:
        for tenant, state in states.items():
            console.print(_calls_table(tenant, state))
    else:
        console.print("[yellow]the simulator's state could not be read[/]")
    console.print(f"settled in {result.seconds:.1f} s")
    console.print(summary_line(result), markup=False, highlight=False, soft_wrap=True)
    print_next_steps(console, stack)


def shown_path(path: Path) -> str:
    """`path` relative to the working folder when it is inside it (shorter, and what the user typed)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_next_steps(console: Console, stack: DemoStack) -> None:
    relay = f"(set -a; . {shown_path(stack.paths.env_file)};"
    lines = [
        f"Flower (tasks, workers):  {stack.flower_url}  login {stack.flower_login}",
        f"Simulator state (Engage): {stack.simulator_url}/_sim/state",
        f"Metrics:                  {stack.worker_metrics_url} (worker), {stack.ingest_metrics_url} (ingest)",
        f"Dead letters:             {relay} .venv/bin/engage-relay dlq list)",
        f"Relay status:             {relay} .venv/bin/engage-relay status)",
        f"Logs:                     {shown_path(stack.paths.logs)}/",
        f"Redis:                    {stack.redis_url}"
        + (f" (data in {shown_path(stack.paths.redis_dir)})" if stack.own_redis else ""),
    ]
    console.print("\n[bold]Where to look next[/]")
    for line in lines:
        console.print("  " + line, markup=False, highlight=False, soft_wrap=True)


def write_summary(
    path: Path, stack: DemoStack, result: DemoResult, states: dict[str, dict[str, Any]] | None
) -> None:
    document = {
        "counts": counts(result),
        "outcomes": {k: o.outcome for k, o in result.outcomes.items()},
        "rejected": {k: o.detail for k, o in result.outcomes.items() if o.outcome == "rejected"},
        "lost": result.lost,
        "engage_calls": calls_by_route(states) if states is not None else None,
        "engage_calls_by_tenant": (
            {tenant: calls_by_route({tenant: state}) for tenant, state in states.items()}
            if states is not None
            else None
        ),
        "seconds": round(result.seconds, 2),
        "simulator_url": stack.simulator_url,
        "flower_url": stack.flower_url,
        "redis_url": stack.redis_url,
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
