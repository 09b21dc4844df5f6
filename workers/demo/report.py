"""The demo's summary: outcomes by event type and kind, rejections with reasons, the outage scene (the
hold as `engage-relay status` showed it, each of its events' outcome, what Engage imported), the Engage
calls the simulator received, lost events, and where to look next. Also `summary.json` and one plain
line (`demo summary: published=... lost=...`) that scripts and the first-run test read.

Never shows an API key or the FTP password; the Flower demo login is shown on purpose.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from workers.commands.status import hold_text
from workers.demo.run import DemoResult, OutageReport
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
    by_kind["dead_lettered"] += len(result.dead_lettered)
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
        kind = "dead_lettered" if key in result.dead_lettered else kind
        per_type.setdefault(result.types.get(key, "?"), Counter())[kind] += 1
    for event_type in sorted(per_type):
        row = per_type[event_type]
        table.add_row(event_type, *(str(row.get(k, 0) or "") for k in [*kinds, "lost"]))
    total = counts(result)
    table.add_row("total", *(str(total[k]) for k in [*kinds, "lost"]), style="bold")
    return table


def _calls_table(state: dict[str, Any]) -> Table:
    table = Table(title="Engage calls the simulator received", title_justify="left")
    table.add_column("route")
    table.add_column("answers by status")
    requests: dict[str, dict[str, int]] = state.get("requests", {})
    for route in sorted(requests):
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(requests[route].items()))
        table.add_row(route, statuses)
    return table


def calls_by_route(state: dict[str, Any]) -> dict[str, dict[str, int]]:
    calls: dict[str, dict[str, int]] = state.get("requests", {})
    return calls


def outage_lines(result: DemoResult) -> list[str]:
    """The outage scene in plain words: the hold, each event's way to Engage, the files Engage imported."""
    report = result.outage
    if report is None:
        return []
    lines = [
        f"Engage outage: Engage answered 503 for {report.down_s:.1f} s "
        f"while {report.tenant} published {len(report.keys)} events"
    ]
    if report.held is not None:
        lines.append(f"  engage-relay status said: {report.tenant} {hold_text(report.held, report.held_at)}")
    else:
        lines.append(f"  {report.tenant} was never seen held")
    for key in report.keys:
        outcome = result.outcomes.get(key)
        event_type = result.types.get(key, "?")
        if outcome is None:
            where = "dead-lettered" if key in result.dead_lettered else "lost"
            lines.append(f"  {key} ({event_type}): {where}")
        elif outcome.outcome == "delivered_by_file":
            lines.append(f"  {key} ({event_type}): held, spilled, delivered_by_file: {outcome.detail or ''}")
        else:
            lines.append(
                f"  {key} ({event_type}): held, then {outcome.outcome} by the API once Engage was back "
                f"(attempt {outcome.attempts})"
            )
    for entry in report.imports:
        lines.append(
            f"  Engage imported {entry.get('folder')}/{entry.get('file')}: "
            f"{entry.get('records')} records, {entry.get('applied')} applied"
        )
    return lines


def outage_document(report: OutageReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    held = report.held
    return {
        "tenant": report.tenant,
        "down_s": round(report.down_s, 2),
        "events": report.keys,
        "held": None if held is None else {"cause": held.cause, "held": held.held, "breaker": held.breaker},
        "imports": report.imports,
    }


def print_summary(
    console: Console, stack: DemoStack, result: DemoResult, state: dict[str, Any] | None
) -> None:
    console.print()
    console.print(_outcomes_table(result))
    tenants = Counter(key.split(":", 1)[0] for key in result.published)
    console.print("by tenant: " + ", ".join(f"{name} {n} events" for name, n in sorted(tenants.items())))
    rejected = [(k, o) for k, o in result.outcomes.items() if o.outcome == "rejected"]
    for key, outcome in rejected:
        console.print(f"[yellow]rejected[/] {key}: {(outcome.detail or '')[:DETAIL_MAX_CHARS]}", markup=True)
    for key in result.dead_lettered:
        console.print(
            f"[red]dead-lettered[/] {key}: waits in the dead letters (`engage-relay dlq show {key}`)"
        )
    for line in outage_lines(result):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.lost:
        console.print(f"[bold red]lost[/] (no final outcome): {', '.join(result.lost)}")
    if state is not None:
        console.print(_calls_table(state))
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
        f"Console (browser):        {stack.console_url}  login {stack.console_login}",
        f"Flower (tasks, workers):  {stack.flower_url}  login {stack.flower_login}",
        f"HTTP service (API):       {stack.api_url}/docs  token {stack.api_token}",
        f"  e.g.                    curl -H 'Authorization: Bearer {stack.api_token}' "
        f"{stack.api_url}/v1/events/<event id>",
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


def write_summary(path: Path, stack: DemoStack, result: DemoResult, state: dict[str, Any] | None) -> None:
    document = {
        "counts": counts(result),
        "outcomes": {k: o.outcome for k, o in result.outcomes.items()},
        "rejected": {k: o.detail for k, o in result.outcomes.items() if o.outcome == "rejected"},
        "dead_lettered": result.dead_lettered,
        "lost": result.lost,
        "engage_calls": calls_by_route(state) if state is not None else None,
        "outage": outage_document(result.outage),
        "seconds": round(result.seconds, 2),
        "simulator_url": stack.simulator_url,
        "flower_url": stack.flower_url,
        "console_url": stack.console_url,
        "api_url": stack.api_url,
        "redis_url": stack.redis_url,
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
