"""The pipeline bench's figures: one dict of numbers per scenario run, medians over runs, and the table."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from bench._scenarios import ScenarioResult
from bench._workload import KIND_WEIGHTS, NEW_KINDS

KNOWN_KINDS = frozenset(KIND_WEIGHTS) - NEW_KINDS
Figures = dict[str, float]

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (key, header, format)
    ("events", "events", "{:.0f}"),
    ("calls_per_s", "calls/s", "{:.1f}"),
    ("budget_pct", "%budget", "{:.0f}%"),
    ("cpe_new", "calls/ev new", "{:.2f}"),
    ("cpe_known", "known", "{:.2f}"),
    ("cpe_all", "all", "{:.2f}"),
    ("events_per_s", "events/s", "{:.1f}"),
    ("burst_p50", "backlog p50 s", "{:.2f}"),
    ("burst_p99", "p99 s", "{:.2f}"),
    ("paced_p50", "paced p50 ms", "{:.0f}"),
    ("paced_p99", "p99 ms", "{:.0f}"),
    ("http_429", "429s", "{:.0f}"),
    ("retries", "retries", "{:.0f}"),
    ("cpu_per_1000", "CPU ms/ev", "{:.2f}"),
)


def figures(result: ScenarioResult) -> Figures:
    burst = result.burst
    out: Figures = {
        "events": burst.events,
        "calls_per_s": burst.steady_calls_per_s,
        "budget_pct": 100 * burst.steady_calls_per_s / result.budget_per_s
        if result.budget_per_s
        else math.nan,
        "cpe_new": burst.calls_per_event(NEW_KINDS),
        "cpe_known": burst.calls_per_event(KNOWN_KINDS),
        "cpe_all": burst.calls_per_event(),
        "events_per_s": burst.events / burst.elapsed_s,
        "burst_p50": burst.latency_quantile(0.50),
        "burst_p99": burst.latency_quantile(0.99),
        "paced_p50": 1000 * result.paced.latency_quantile(0.50) if result.paced else math.nan,
        "paced_p99": 1000 * result.paced.latency_quantile(0.99) if result.paced else math.nan,
        "http_429": burst.calls.get(429, 0),
        "retries": burst.retries,
        "cpu_per_1000": burst.cpu_per_1000(),
        "cpu_ingest_per_1000": burst.cpu_ingest_s * 1000 / burst.events,
        "accepted_per_s": burst.accepted_per_s(),
        "paced_cpu_per_1000": result.paced.cpu_per_1000() if result.paced else math.nan,
        "idle_cpu_per_s": result.idle_cpu_per_s,
        "sim_calls": burst.total_calls,
        "outcome_calls": sum(sum(ns) for ns in burst.calls_by_kind.values()),
    }
    for kind in KIND_WEIGHTS:
        out[f"cpe_{kind}"] = burst.calls_per_event(frozenset({kind}))
    for tenant, rate in burst.tenant_calls_per_s.items():
        out[f"tenant_calls_per_s:{tenant}"] = rate
    return out


def medians(runs: Sequence[Figures]) -> Figures:
    keys = {key for run in runs for key in run}
    return {key: statistics.median([run[key] for run in runs if key in run]) for key in sorted(keys)}


def _cell(value: float, fmt: str) -> str:
    return "-" if value is None or math.isnan(value) else fmt.format(value)


def table(rows: Mapping[str, Figures]) -> str:
    name_width = max(len(name) for name in rows) + 2
    widths = [max(len(header), 7) for _, header, _ in COLUMNS]
    header = "scenario".ljust(name_width) + " ".join(
        h.rjust(w) for (_, h, _), w in zip(COLUMNS, widths, strict=True)
    )
    lines = [header, "-" * len(header)]
    for name, figs in rows.items():
        cells = [
            _cell(figs.get(key, math.nan), fmt).rjust(w)
            for (key, _, fmt), w in zip(COLUMNS, widths, strict=True)
        ]
        lines.append(name.ljust(name_width) + " ".join(cells))
    return "\n".join(lines)


def kinds_table(rows: Mapping[str, Figures]) -> str:
    names = list(rows)
    width = max(len(n) for n in names) + 2
    lines = ["calls per event by kind".ljust(16) + "".join(n.rjust(width) for n in names)]
    for kind in KIND_WEIGHTS:
        cells = "".join(_cell(rows[n].get(f"cpe_{kind}", math.nan), "{:.2f}").rjust(width) for n in names)
        lines.append(kind.ljust(16) + cells)
    return "\n".join(lines)


def ratio(a: float, b: float) -> str:
    return "-" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}x"


def one_line(name: str, figs: Figures) -> str:
    return (
        f"{name}: {figs['calls_per_s']:.1f} calls/s steady, {figs['cpe_all']:.2f} calls/event, "
        f"backlog p50 {figs['burst_p50']:.2f} s, paced p50 {_cell(figs['paced_p50'], '{:.0f}')} ms, "
        f"429s {figs['http_429']:.0f} ({figs['accepted_per_s']:.1f} calls/s not refused over the phase), "
        f"CPU {figs['cpu_per_1000']:.2f} s/1k events (ingest {figs['cpu_ingest_per_1000']:.2f}; "
        f"paced phase {_cell(figs['paced_cpu_per_1000'], '{:.2f}')}; idle {figs['idle_cpu_per_s']:.3f} s/s) "
        f"(simulator counted {figs['sim_calls']:.0f} calls, outcomes list {figs['outcome_calls']:.0f})"
    )
