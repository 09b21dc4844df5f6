"""Setting up one migration run from what the operator asked: the spec, its output folder, its services.

`engage-relay migrate` (workers/commands/migrate.py) is only the command line around `prepare` and
`jobs.run_migration`; everything a run decides lives here and in `migration.jobs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import redis

from engage.client import EngageClient
from engage.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from engage.transport import key_fingerprint
from migration.jobs import MigrationKind, MigrationSpec, Services
from relay.tenants import Tenant

REDIS_PROBE_TIMEOUT_S: Final = 1.0
MIGRATIONS_SUBDIR: Final = "migrations"


def default_out(data_dir: Path, tenant: Tenant, kind: MigrationKind, input_path: Path) -> Path:
    """`{data_dir}/migrations/{tenant}/{kind}-{file stem}`: one folder (and checkpoint) per input file."""
    return data_dir / MIGRATIONS_SUBDIR / tenant.name / f"{kind}-{input_path.stem}"


def prepare(
    kind: MigrationKind,
    input_path: Path,
    tenant: Tenant,
    *,
    out: Path | None,
    data_dir: Path,
    redis_url: str,
    **options: Any,
) -> tuple[MigrationSpec, Services]:
    """The run's spec and services; a bulk run (not a dry run) gets a rate-limited Engage client."""
    spec = MigrationSpec(
        kind=kind,
        input_path=input_path,
        tenant=tenant,
        out=out or default_out(data_dir, tenant, kind, input_path),
        **options,
    )
    services = Services()
    if not spec.uses_files and not spec.dry_run:
        services.client = migration_client(redis_url, tenant)
    return spec, services


def migration_client(redis_url: str, tenant: Tenant) -> EngageClient:
    """The tenant's client, on the shared Redis rate limiter when Redis answers, else an in-process one
    (a migration before go-live may run where no Redis is)."""
    api_key = tenant.api_key.get_secret_value()
    budgets = {key_fingerprint(api_key): tenant.rate_budget_per_s}
    limiter: RateLimiter
    connection = redis.Redis.from_url(
        redis_url, socket_connect_timeout=REDIS_PROBE_TIMEOUT_S, socket_timeout=REDIS_PROBE_TIMEOUT_S * 5
    )
    try:
        connection.ping()
        limiter = RedisRateLimiter(connection, tenant.rate_budget_per_s, budgets)
    except redis.RedisError:
        connection.close()
        limiter = MemoryRateLimiter(tenant.rate_budget_per_s, budgets)
    return EngageClient(tenant.base_url, api_key, rate_limiter=limiter)
