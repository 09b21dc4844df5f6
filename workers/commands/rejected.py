"""`engage-relay rejected list|replay`: the envelopes refused as invalid, and a second chance for some.

`list` reads the rejected store (oldest first; --tenant, --since, --limit, --json). `replay` re-publishes
the envelopes that were refused only because their tenant was unknown, once that tenant exists: the
raw envelope as received goes back on the events stream and the rejection is removed (under a claim, so
two operators never publish one twice). Other rejections are bad data: fix at the source and publish anew.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import click

from workers.commands._moments import MOMENT
from workers.process import current_env

if TYPE_CHECKING:
    import redis

    from fallback.rejected import Rejection
    from fallback.replay import Claims

PAGE = 500
MAX_REASON_CHARS = 80
UNKNOWN_TENANT_MSG = "unknown tenant"
TABLE_COLUMNS = ("entry", "at", "stage", "tenant", "type", "event id", "first reason")


def iter_rejections(
    client: redis.Redis, *, since: datetime | None = None, stream: str | None = None
) -> Iterator[tuple[str, Rejection]]:
    """Every rejection from `since` on (stream ids are times, so older pages are never read), oldest first;
    `stream` defaults to the rejected store's."""
    from fallback.rejected import REJECTED_STREAM, Rejection

    stream = stream or REJECTED_STREAM
    low = f"{int(since.timestamp() * 1000)}-0" if since else "-"
    while True:
        page = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(stream, min=low, count=PAGE))
        for entry_id, fields in page:
            yield entry_id.decode(), Rejection.model_validate_json(fields[b"rejection"])
        if len(page) < PAGE:
            return
        low = "(" + page[-1][0].decode()


def is_unknown_tenant(rejection: Rejection) -> bool:
    return rejection.tenant is not None and any(
        r.get("loc") == ["tenant"] and str(r.get("msg", "")).startswith(UNKNOWN_TENANT_MSG)
        for r in rejection.reasons
    )


def _first_reason(rejection: Rejection) -> str:
    if not rejection.reasons:
        return "-"
    reason = rejection.reasons[0]
    loc = ".".join(str(p) for p in reason.get("loc", [])) or "-"
    text = f"{loc}: {reason.get('msg', '')}"
    more = len(rejection.reasons) - 1
    text = text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"
    return f"{text} (+{more})" if more else text


def _row(entry_id: str, r: Rejection) -> tuple[str, ...]:
    at = r.at.strftime("%Y-%m-%d %H:%M:%SZ")
    return (entry_id, at, r.stage, r.tenant or "-", r.type or "-", r.event_id or "-", _first_reason(r))


def _record_json(entry_id: str, r: Rejection) -> str:
    return json.dumps({"entry": entry_id, **r.model_dump(mode="json")}, ensure_ascii=False)


def _redis() -> redis.Redis:
    return current_env().redis_client()


def _selected(
    client: redis.Redis, tenant: str | None, since: datetime | None
) -> Iterator[tuple[str, Rejection]]:
    for entry_id, rejection in iter_rejections(client, since=since):
        if tenant is None or rejection.tenant == tenant:
            yield entry_id, rejection


@click.group("rejected")
def command() -> None:
    """Rejected envelopes: invalid, for an unknown tenant, or refused by Engage as wrong data."""


@command.command("list")
@click.option("--tenant", default=None, help="Only this tenant.")
@click.option("--since", type=MOMENT, default=None, help="Rejected at or after (ISO 8601 or 2h, 7d).")
@click.option("--limit", type=int, default=None, help="At most this many (oldest first).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_rejected(tenant: str | None, since: datetime | None, limit: int | None, as_json: bool) -> None:
    """List rejections, oldest first, with their reasons."""
    rows: list[tuple[str, Rejection]] = []
    for item in _selected(_redis(), tenant, since):
        if limit is not None and len(rows) >= limit:
            break
        rows.append(item)
    if as_json:
        for entry_id, rejection in rows:
            click.echo(_record_json(entry_id, rejection))
        return
    if not rows:
        click.echo("no rejections match")
        return
    table = [TABLE_COLUMNS, *(_row(e, r) for e, r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(TABLE_COLUMNS))]
    for row in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"{len(rows)} rejection(s)")


@command.command("replay")
@click.option("--tenant", default=None, help="Only this tenant.")
@click.option("--since", type=MOMENT, default=None, help="Rejected at or after (ISO 8601 or 2h, 7d).")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def replay_rejected(tenant: str | None, since: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Re-publish envelopes rejected for an unknown tenant whose tenant now exists."""
    from fallback.rejected import REJECTED_STREAM
    from fallback.replay import Claims

    settings = current_env().settings
    client = _redis()
    known = set(current_env().registry(client).names())  # a wrong tenants file: one line (workers.cli)
    claims = Claims(client, f"{REJECTED_STREAM}:claim")
    counts = {"replayed": 0, "would_replay": 0, "still_unknown": 0, "claimed_elsewhere": 0}
    for entry_id, rejection in _selected(client, tenant, since):
        if not is_unknown_tenant(rejection):
            continue
        action = _replay_one(client, claims, entry_id, rejection, known, dry_run, settings.events_stream)
        counts[action] += 1
        if as_json:
            click.echo(json.dumps(_action_json(entry_id, rejection, action)))
        elif action != "replayed":
            click.echo(f"{action.replace('_', ' ')}: {entry_id} (tenant {rejection.tenant})")
    summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v) or "nothing to replay"
    click.echo(f"{summary} (stream {settings.events_stream})", err=as_json)


def _action_json(entry_id: str, rejection: Rejection, action: str) -> dict[str, Any]:
    return {"entry": entry_id, "event_id": rejection.event_id, "tenant": rejection.tenant, "action": action}


def _replay_one(
    client: redis.Redis,
    claims: Claims,
    entry_id: str,
    rejection: Rejection,
    known: set[str],
    dry_run: bool,
    stream: str,
) -> str:
    from fallback.rejected import REJECTED_STREAM
    from schemas.publish import publish

    if rejection.tenant not in known:
        return "still_unknown"
    if dry_run:
        return "would_replay"
    token = claims.take(entry_id)
    if token is None:
        return "claimed_elsewhere"
    try:
        if not client.xrange(REJECTED_STREAM, min=entry_id, max=entry_id):
            return "claimed_elsewhere"  # another operator replayed and removed it a moment ago
        publish(client, rejection.raw, stream)
        client.xdel(REJECTED_STREAM, entry_id)
        return "replayed"
    finally:
        claims.release(entry_id, token)
