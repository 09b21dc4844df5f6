"""`engage-relay api`: build the HTTP service's `ApiServices` from the process's settings and serve it.

`serve_api` runs uvicorn; with more than one worker uvicorn needs an import string, so each worker
process builds its own app through `app_from_environment` (a factory: one Redis pool, one Engage session
per process). uvicorn's access log is off: the app logs each request without its query string or token
(`api.app`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter

from api.app import create_app
from api.ratelimit import RedisRequestLimiter
from api.services import ApiServices
from api.tokens import ApiTokens, RedisTokenStore
from engage.contact_store import RedisContactIdStore
from engage.ratelimit import RedisRateLimiter
from engage.transport import key_fingerprint, shared_session
from fallback.rejected import RedisRejectedStore
from relay.breaker import BreakerPolicy, RedisCircuitBreaker
from relay.ledger import RedisLedger
from relay.outcomes import RedisOutcomeSink
from relay.readcache import RedisReadCache
from relay.tenant_reload import ReloadingRegistry
from relay.trail import RedisTrail
from workers.process import ProcessEnv
from workers.runtime_factory import follow_budgets

SESSION_POOL_SIZE = 64  # Engage connections one API process keeps open (reads run on a thread pool)


def build_services(env: ProcessEnv) -> ApiServices:
    """The Redis-backed services of one API process."""
    settings = env.settings
    client = env.redis_client()
    registry = env.live_registry(client)  # a tenant added in the console is served within seconds
    budgets = {key_fingerprint(t.api_key.get_secret_value()): t.rate_budget_per_s for t in registry}
    engage_limiter = RedisRateLimiter(client, budgets=budgets)
    if isinstance(registry, ReloadingRegistry):
        registry.listen(lambda fresh: follow_budgets(engage_limiter, fresh))
    api_settings = settings.api_settings()
    return ApiServices(
        settings=api_settings,
        redis=client,
        registry=registry,
        tokens=ApiTokens(RedisTokenStore(client)),
        request_limiter=RedisRequestLimiter(client, default_budget=api_settings.request_budget),
        rejected=RedisRejectedStore(client),
        outcomes=RedisOutcomeSink(client, settings.outcomes_stream),
        trail=RedisTrail(client, ttl_s=int(settings.outcomes_retention_s)),
        ledger=RedisLedger(client),
        contacts=RedisContactIdStore(client),
        read_cache=RedisReadCache(client, api_settings.cache_ttl),
        breaker=RedisCircuitBreaker(client, BreakerPolicy(open_s=settings.breaker_open_s)),
        engage_limiter=engage_limiter,
        session=shared_session(pool_maxsize=SESSION_POOL_SIZE),
    )


def app_from_environment() -> object:
    """The uvicorn factory of each worker process: its environment, its services, its app."""
    from workers.logs import configure_logging, known_secrets

    env = ProcessEnv()
    services = build_services(env)
    configure_logging(logging.INFO, secrets=known_secrets(services.registry))
    return create_app(services, extra_routers=[console_router(env, services)])


def console_router(env: ProcessEnv, services: ApiServices) -> APIRouter:
    """The browser console (console/), on the same Redis and the same live tenants as the API."""
    from console import build_router
    from workers.console_app import console_services

    return build_router(console_services(env, services.redis, registry=services.registry))


def serve_api(env: ProcessEnv, *, host: str, port: int, workers: int) -> None:
    import uvicorn

    env.settings  # noqa: B018 - a wrong environment is one line before uvicorn starts
    env.registry()  # so is a wrong tenants file
    uvicorn.run(
        "workers.api_process:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        server_header=False,
    )
