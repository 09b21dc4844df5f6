"""`engage-relay dlq list|show|replay|drop`: look at dead letters, put them back on the stream, or drop them.

Filters (list, replay, drop): --tenant, --type, --error (error class such as ServerError or CircuitOpen, or
Engage's error code), --since/--until (ISO 8601 or relative: 30m, 2h, 7d), --fallback-state.
`--json` prints one JSON object per line. replay and drop act on IDs, on a filter, or on everything with
--all (never on an empty selection by accident); `--dry-run` shows what would happen and changes nothing.
Dead letters never hold API keys (errors never carry them), so nothing here can print one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from workers.commands._moments import MOMENT
from workers.process import current_env

if TYPE_CHECKING:
    import redis

    from fallback.deadletters import DeadLetter, DeadLetterFilter, RedisDeadLetterStore
    from fallback.replay import ReplayResult

# fallback.deadletters.FallbackState, written out so that `dlq --help` imports nothing (a test compares them)
FALLBACK_STATES = ("pending", "written", "delivered_by_file", "superseded", "failed", "not_applicable")
TABLE_COLUMNS = ("id", "tenant", "type", "error", "status/code", "attempts", "dead-lettered at", "fallback")
MAX_CELL_CHARS = 48


def _redis() -> redis.Redis:
    return current_env().redis_client()


def _store() -> RedisDeadLetterStore:
    from fallback.deadletters import RedisDeadLetterStore

    return RedisDeadLetterStore(_redis())


def _events_stream() -> str:
    return current_env().settings.events_stream


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--tenant", default=None, help="Only this tenant."),
        click.option("--type", "type_", default=None, help="Only this event type (e.g. order.delivered)."),
        click.option("--error", default=None, help="Error class (ServerError, CircuitOpen) or Engage code."),
        click.option("--since", type=MOMENT, default=None, help="Dead-lettered at or after (ISO or 2h)."),
        click.option("--until", type=MOMENT, default=None, help="Dead-lettered at or before (ISO or 2h)."),
        click.option(
            "--fallback-state",
            type=click.Choice(FALLBACK_STATES),
            default=None,
            help="Only letters in this fallback state.",
        ),
        click.option("--json", "as_json", is_flag=True, help="One JSON object per line."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filter(
    tenant: str | None,
    type_: str | None,
    error: str | None,
    since: datetime | None,
    until: datetime | None,
    fallback_state: str | None,
) -> DeadLetterFilter:
    from fallback.deadletters import DeadLetterFilter

    return DeadLetterFilter(
        tenant=tenant,
        type=type_,
        error=error,
        since=since,
        until=until,
        fallback_state=fallback_state,  # type: ignore[arg-type]  # click.Choice of FallbackState
    )


def _is_narrowed(where: DeadLetterFilter) -> bool:
    from fallback.deadletters import DeadLetterFilter

    return where != DeadLetterFilter()


def letter_json(letter: DeadLetter) -> str:
    return json.dumps({"id": letter.id, **letter.model_dump(mode="json")}, ensure_ascii=False)


def _row(letter: DeadLetter) -> tuple[str, ...]:
    status = "/".join(str(p) for p in (letter.engage_status, letter.engage_error_code) if p) or "-"
    cells = (
        letter.id,
        letter.tenant,
        letter.type,
        letter.error_class,
        status,
        str(letter.attempts),
        letter.dead_lettered_at.strftime("%Y-%m-%d %H:%M:%SZ"),
        letter.fallback_state,
    )
    return tuple(c if len(c) <= MAX_CELL_CHARS else c[: MAX_CELL_CHARS - 1] + "…" for c in cells)


def render_table(letters: Iterable[DeadLetter]) -> list[str]:
    rows = [TABLE_COLUMNS, *(_row(letter) for letter in letters)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _select(
    store: RedisDeadLetterStore, ids: tuple[str, ...], where: DeadLetterFilter, everything: bool
) -> list[DeadLetter]:
    if not ids and not _is_narrowed(where) and not everything:
        raise click.UsageError("name dead letter IDs, give a filter (--tenant, --error, ...), or pass --all")
    if not ids:
        return list(store.list(where))
    letters: list[DeadLetter] = []
    for letter_id in ids:
        letter = store.get(letter_id)
        if letter is None:
            raise click.ClickException(f"no dead letter {letter_id!r}")
        if where.matches(letter):
            letters.append(letter)
    return letters


@click.group("dlq")
def command() -> None:
    """Dead letters: events whose retries ran out. List, show, replay onto the stream, or drop."""


@command.command("list")
@filter_options
@click.option("--limit", type=int, default=None, help="At most this many (oldest first).")
def list_letters(
    tenant: str | None,
    type_: str | None,
    error: str | None,
    since: datetime | None,
    until: datetime | None,
    fallback_state: str | None,
    as_json: bool,
    limit: int | None,
) -> None:
    """List dead letters, oldest first."""
    store = _store()
    letters = store.list(_filter(tenant, type_, error, since, until, fallback_state))
    chosen = list(_take(letters, limit))
    if as_json:
        for letter in chosen:
            click.echo(letter_json(letter))
        return
    if not chosen:
        click.echo("no dead letters match")
        return
    for line in render_table(chosen):
        click.echo(line)
    click.echo(f"{len(chosen)} dead letter(s)")


def _take(letters: Iterator[DeadLetter], limit: int | None) -> Iterator[DeadLetter]:
    for n, letter in enumerate(letters):
        if limit is not None and n >= limit:
            return
        yield letter


@command.command("show")
@click.argument("letter_id")
@click.option("--json", "as_json", is_flag=True, help="The dead letter as one JSON object.")
def show(letter_id: str, as_json: bool) -> None:
    """Show one dead letter with its original envelope."""
    letter = _store().get(letter_id)
    if letter is None:
        raise click.ClickException(f"no dead letter {letter_id!r}")
    if as_json:
        click.echo(letter_json(letter))
        return
    fields = letter.model_dump(mode="json", exclude={"envelope"})
    click.echo(f"id: {letter.id}")
    for name, value in fields.items():
        if value is not None:
            click.echo(f"{name}: {value}")
    click.echo("envelope:")
    click.echo(json.dumps(letter.envelope, indent=2, ensure_ascii=False))


REPLAY_SUMMARY_LABELS = {
    "replayed": "replayed",
    "would_replay": "would replay",
    "claimed_elsewhere": "being replayed by someone else",
    "gone": "already gone",
    "skipped_delivered": "skipped (already delivered by file; --include-delivered)",
}


@command.command("replay")
@click.argument("ids", nargs=-1)
@filter_options
@click.option("--all", "everything", is_flag=True, help="Replay every dead letter.")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
@click.option("--include-delivered", is_flag=True, help="Also replay letters already delivered by file.")
def replay(
    ids: tuple[str, ...],
    tenant: str | None,
    type_: str | None,
    error: str | None,
    since: datetime | None,
    until: datetime | None,
    fallback_state: str | None,
    as_json: bool,
    everything: bool,
    dry_run: bool,
    include_delivered: bool,
) -> None:
    """Re-publish the original envelopes onto the events stream, then remove the dead letters."""
    from fallback.deadletters import RedisDeadLetterStore
    from fallback.replay import DeadLetterReplayer

    client = _redis()
    store = RedisDeadLetterStore(client)
    letters = _select(store, ids, _filter(tenant, type_, error, since, until, fallback_state), everything)
    replayer = DeadLetterReplayer(client, store, stream=_events_stream())
    results: list[ReplayResult] = []
    with _progress(len(letters), "replaying", enabled=not as_json and not dry_run) as advance:
        for letter in letters:
            result = replayer.replay(letter, dry_run=dry_run, include_delivered=include_delivered)
            results.append(result)
            if as_json:
                click.echo(json.dumps(_result_json(result, letter)))
            elif dry_run:
                click.echo(f"would replay {letter.id} ({letter.type}, {letter.error_class})")
            advance()
    _summary(results, REPLAY_SUMMARY_LABELS, to_stderr=as_json, stream=replayer.stream)


def _result_json(result: ReplayResult, letter: DeadLetter) -> dict[str, Any]:
    out: dict[str, Any] = {"id": result.letter_id, "action": result.action, "tenant": letter.tenant}
    if result.stream_entry:
        out["stream_entry"] = result.stream_entry
    return out


@command.command("drop")
@click.argument("ids", nargs=-1)
@filter_options
@click.option("--all", "everything", is_flag=True, help="Drop every dead letter.")
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def drop(
    ids: tuple[str, ...],
    tenant: str | None,
    type_: str | None,
    error: str | None,
    since: datetime | None,
    until: datetime | None,
    fallback_state: str | None,
    as_json: bool,
    everything: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Delete dead letters for good (their events are then neither replayed nor delivered by file)."""
    store = _store()
    letters = _select(store, ids, _filter(tenant, type_, error, since, until, fallback_state), everything)
    if dry_run:
        for letter in letters:
            if as_json:
                click.echo(json.dumps({"id": letter.id, "action": "would_drop", "tenant": letter.tenant}))
            else:
                click.echo(f"would drop {letter.id} ({letter.type}, {letter.error_class})")
        _echo(f"would drop {len(letters)} dead letter(s)", to_stderr=as_json)
        return
    if letters and not yes:
        click.confirm(f"Drop {len(letters)} dead letter(s) for good?", abort=True, err=as_json)
    dropped = 0
    for letter in letters:
        done = store.drop(letter.id)
        dropped += done
        if as_json:
            action = "dropped" if done else "gone"
            click.echo(json.dumps({"id": letter.id, "action": action, "tenant": letter.tenant}))
    _echo(f"dropped {dropped} dead letter(s)", to_stderr=as_json)


def _echo(line: str, *, to_stderr: bool) -> None:
    click.echo(line, err=to_stderr)


def _summary(results: list[ReplayResult], labels: dict[str, str], *, to_stderr: bool, stream: str) -> None:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.action] = counts.get(result.action, 0) + 1
    parts = [f"{labels[action]} {n}" for action, n in counts.items()] or ["nothing to replay"]
    _echo(f"{', '.join(parts)} (stream {stream})", to_stderr=to_stderr)


@contextmanager
def _progress(total: int, label: str, *, enabled: bool) -> Iterator[Callable[[], None]]:
    """A rich progress bar when stdout is a terminal and there is more than one item; else nothing."""
    if not (enabled and total > 1 and sys.stdout.isatty()):
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
