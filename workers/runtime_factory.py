"""Build the task runtime of a worker process from its settings: real Redis-backed parts."""

from __future__ import annotations

import redis

from engage.contact_store import RedisContactIdStore
from engage.ratelimit import RedisRateLimiter
from engage.transport import Timeouts, key_fingerprint, shared_session
from fallback.deadletters import RedisDeadLetterStore
from fallback.rejected import RedisRejectedStore
from relay.breaker import BreakerPolicy, RedisCircuitBreaker
from relay.control import RedisTenantControl
from relay.keys import SPILL_PREFIX
from relay.ledger import RedisLedger
from relay.outcomes import RedisOutcomeSink
from relay.readcache import RedisReadCache
from relay.runtime import Runtime
from relay.schedule import RedisSchedule
from relay.spill.fence import RedisFileFence
from relay.spill.kick import DebouncedSweepKick
from relay.tenant_reload import ReloadingRegistry
from relay.tenants import TenantRegistry
from relay.trail import RedisTrail
from tasks.fallback import send_sweep
from workers.settings import Settings

SESSION_POOL_PER_WORKER_THREAD = 2


def build_runtime(
    settings: Settings, registry: TenantRegistry, client: redis.Redis, ladder: tuple[float, ...]
) -> Runtime:
    budgets = {key_fingerprint(t.api_key.get_secret_value()): t.rate_budget_per_s for t in registry}
    limiter = RedisRateLimiter(client, budgets=budgets)
    if isinstance(registry, ReloadingRegistry):  # a tenant added or changed later: its budget too
        registry.listen(lambda fresh: follow_budgets(limiter, fresh))
    return Runtime(
        registry=registry,
        schedule=RedisSchedule(client),
        trail=RedisTrail(client, ttl_s=int(settings.outcomes_retention_s)),
        spill=RedisDeadLetterStore(client, prefix=SPILL_PREFIX),
        control=RedisTenantControl(client),
        fence=RedisFileFence(client),
        read_cache=RedisReadCache(client, settings.read_cache_ttl()),
        lease_s=settings.redrive_after_s,
        limiter=limiter,
        contacts=RedisContactIdStore(client),
        ledger=RedisLedger(client),
        outcomes=RedisOutcomeSink(client, settings.outcomes_stream),
        rejected=RedisRejectedStore(client),
        deadletters=RedisDeadLetterStore(client),
        session=shared_session(pool_maxsize=settings.worker_concurrency * SESSION_POOL_PER_WORKER_THREAD),
        retry_ladder_s=ladder,
        on_dead_letter=DebouncedSweepKick(client, send=send_sweep),  # sweeps the tenant a few seconds later
        redis=client,
        breaker=RedisCircuitBreaker(client, BreakerPolicy(open_s=settings.breaker_open_s)),
        timeouts=Timeouts(connect_s=settings.engage_connect_timeout_s, read_s=settings.engage_read_timeout_s),
    )


def follow_budgets(limiter: RedisRateLimiter, registry: TenantRegistry) -> None:
    for tenant in registry:
        limiter.set_budget(key_fingerprint(tenant.api_key.get_secret_value()), tenant.rate_budget_per_s)
