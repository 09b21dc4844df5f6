"""`ApiServices` of in-memory twins (and a real Redis for the events stream), for tests that drive
`create_app` in process with FastAPI's TestClient; the console's tests may build on it too."""

from __future__ import annotations

import redis
import requests
from pydantic import SecretStr

from api.ratelimit import MemoryRequestLimiter
from api.services import ApiServices
from api.settings import ApiSettings
from api.tokens import ApiTokens, MemoryTokenStore
from engage.contact_store import MemoryContactIdStore
from engage.ratelimit import MemoryRateLimiter
from fallback.rejected import MemoryRejectedStore
from relay.breaker import MemoryCircuitBreaker
from relay.ledger import MemoryLedger
from relay.outcomes import MemoryOutcomeSink
from relay.readcache import MemoryReadCache
from relay.tenants import Tenant, TenantRegistry
from relay.trail import MemoryTrail


def tenant(name: str, base_url: str = "http://127.0.0.1:9", key: str = "test-key") -> Tenant:
    """A tenant whose Engage is nowhere (port 9) unless a base URL is given."""
    return Tenant(name=name, base_url=base_url, api_key=SecretStr(f"{key}-{name}"))


def memory_services(
    redis_client: redis.Redis, registry: TenantRegistry, settings: ApiSettings | None = None
) -> ApiServices:
    return ApiServices(
        settings=settings or ApiSettings(),
        redis=redis_client,
        registry=registry,
        tokens=ApiTokens(MemoryTokenStore()),
        request_limiter=MemoryRequestLimiter(),
        rejected=MemoryRejectedStore(),
        outcomes=MemoryOutcomeSink(),
        trail=MemoryTrail(),
        ledger=MemoryLedger(),
        contacts=MemoryContactIdStore(),
        read_cache=MemoryReadCache(),
        breaker=MemoryCircuitBreaker(),
        engage_limiter=MemoryRateLimiter(),
        session=requests.Session(),
    )
