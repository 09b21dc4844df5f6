"""`engage-relay fallback sweep|outbox`: run the fallback sweep now, or list the files waiting for upload.

- `sweep [--tenant NAME] [--json]`: one sweep per tenant in this process (the same code as the
  `engage.fallback.sweep` task, under the same per-tenant lock: a tenant a worker is sweeping is `busy`).
  Run it on a machine that sees the tenants' outbox folders.
- `outbox [--tenant NAME] [--json]`: per tenant, the files in its outbox with their status, upload
  failures, next attempt and last error (a refused upload is flagged `REJECTED`: fix the credentials or
  folders), plus import-like files no sidecar describes (never uploaded by the sweep).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workers.process import current_env

if TYPE_CHECKING:
    import redis

    from fallback.outbox import OutboxEntry
    from relay.tenants import Tenant
    from workers.settings import Settings


def _load(tenant: str | None) -> tuple[Settings, list[Tenant], redis.Redis]:
    """The settings, the tenants asked for, a Redis client; a wrong tenants file, an unknown tenant or
    Redis down is one line (workers.cli)."""
    settings = current_env().settings
    client = current_env().redis_client()
    try:
        registry = current_env().registry(client)
        tenants = [registry.get(tenant)] if tenant else list(registry)
    except BaseException:
        client.close()
        raise
    return settings, tenants, client


@click.group("fallback")
def command() -> None:
    """The fallback path: dead letters delivered by import files or the bulk API."""


@command.command("sweep")
@click.option("--tenant", default=None, help="Only this tenant.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per tenant.")
def sweep(tenant: str | None, as_json: bool) -> None:
    """Sweep now: pending dead letters to files or the bulk API, due outbox files uploaded."""
    from fallback.sweep_lock import RedisSweepLock
    from relay.spill.sweep import SweepOptions, sweep_tenant
    from relay.tenants import TenantRegistry
    from workers.celery_app import ladder_from
    from workers.runtime_factory import build_runtime

    settings, tenants, client = _load(tenant)
    runtime = build_runtime(settings, TenantRegistry(tenants), client, ladder_from(settings))
    runtime.on_dead_letter = lambda letter: None
    lock, options = RedisSweepLock(client), SweepOptions()
    try:
        for target in tenants:
            report = sweep_tenant(runtime, target, lock, options)
            if as_json:
                click.echo(json.dumps(report.as_dict(), sort_keys=True))
                continue
            if report.busy:
                click.echo(f"{target.name}: busy (another sweeper holds the tenant)")
                continue
            click.echo(
                f"{target.name}: {len(report.files_written)} file(s) written, "
                f"{len(report.files_uploaded)} uploaded, {report.not_applicable} not applicable, "
                f"{report.failed} failed"
                + (f"; upload: {report.upload_error}" if report.upload_error else "")
            )
    finally:
        runtime.session.close()
        client.close()


def _entry_line(entry: OutboxEntry) -> str:
    parts = [entry.name, entry.status, f"{entry.records} record(s)"]
    if entry.failures:
        parts.append(f"{entry.failures} failure(s)")
    if entry.next_attempt_at is not None and entry.status == "ready":
        parts.append(f"next attempt {entry.next_attempt_at.isoformat(timespec='seconds')}")
    if entry.rejected:
        parts.append("REJECTED")
    if entry.last_error:
        parts.append(f"error: {entry.last_error}")
    return "  " + " | ".join(parts)


@command.command("outbox")
@click.option("--tenant", default=None, help="Only this tenant.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
def outbox(tenant: str | None, as_json: bool) -> None:
    """Files waiting in each tenant's outbox, with upload attempts and errors."""
    from fallback.outbox import Outbox

    _, tenants, client = _load(tenant)
    client.close()
    for target in tenants:
        box = Outbox(Path(target.fallback.local_dir), target.name)
        entries, orphans = box.entries(), box.orphans()
        if as_json:
            for entry in entries:
                click.echo(entry.model_dump_json(exclude={"letter_ids"}))
            for name in orphans:
                click.echo(json.dumps({"tenant": target.name, "name": name, "status": "unknown"}))
            continue
        click.echo(f"{target.name}: {len(entries)} file(s) in {box.folder}")
        for entry in entries:
            click.echo(_entry_line(entry))
        for name in orphans:
            click.echo(f"  {name} | not from the sweep (no sidecar): never uploaded")
