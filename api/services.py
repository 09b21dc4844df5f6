"""``ApiServices``: everything the endpoints need, built once per process and handed to ``create_app``.

The process entry point (``workers/api_process.py``) builds the Redis-backed set; a test or the console
may build its own. Tenants are looked up per request through ``registry`` (``tenant(name)``), never
copied at start-up, so a registry that reloads its tenants is seen by the next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
import requests

from api.ratelimit import RequestLimiter
from api.settings import ApiSettings
from api.tokens import ApiTokens
from engage.client import EngageClient
from engage.contact_store import ContactIdStore
from engage.ratelimit import Lane, RateLimiter
from engage.retry import NO_RETRY
from engage.transport import Timeouts, key_fingerprint
from fallback.rejected import RejectedStore
from relay.breaker import CircuitBreaker
from relay.ledger import Ledger
from relay.outcomes import OutcomeSink
from relay.readcache import ReadCache
from relay.tenants import Tenant, TenantRegistry
from relay.trail import Trail


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiServices:
    """What the HTTP service works with (one per process; thread-safe)."""

    settings: ApiSettings
    redis: redis.Redis  # the events stream (XADD) and every Redis-backed part below
    registry: TenantRegistry  # asked per request: a reloaded registry is seen at once
    tokens: ApiTokens
    request_limiter: RequestLimiter  # per-token request budget (429)
    rejected: RejectedStore  # invalid envelopes, as ingest keeps them (stage "api")
    outcomes: OutcomeSink  # a rejected event with an id gets its outcome, as ingest gives it
    trail: Trail  # GET /v1/events/{id}
    ledger: Ledger  # settled marks; the synchronous assignment's dedupe and contact lock
    contacts: ContactIdStore  # known contactIds: a lookup they answer costs no Engage call
    read_cache: ReadCache
    breaker: CircuitBreaker  # an open breaker answers reads from the cache at once
    engage_limiter: RateLimiter  # the key's shared budget; reads take its `read` lane
    session: requests.Session  # the process's HTTP pool to Engage
    clock: Callable[[], datetime] = utc_now
    _clients: dict[tuple[str, str, str, float, Lane, float], EngageClient] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tenant(self, name: str) -> Tenant:
        """The tenant as the registry knows it now; ``relay.errors.UnknownTenant`` when it does not."""
        return self.registry.get(name)

    def engage_client(self, tenant: Tenant, *, lane: Lane, deadline_s: float) -> EngageClient:
        """A client for calls that must answer within ``deadline_s``: no short retries, socket timeouts
        and rate-limit waits within the deadline. A changed key, base URL or budget (a reloaded tenant) gets
        a new client, and the shared limiter learns the key's budget."""
        api_key = tenant.api_key.get_secret_value()
        key_id = key_fingerprint(api_key)
        slot = (tenant.name, key_id, tenant.base_url, tenant.rate_budget_per_s, lane, deadline_s)
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                set_budget = getattr(self.engage_limiter, "set_budget", None)  # not in the RateLimiter role
                if (
                    set_budget is not None
                    and self.engage_limiter.budget_for(key_id) != tenant.rate_budget_per_s
                ):
                    set_budget(key_id, tenant.rate_budget_per_s)
                client = EngageClient(
                    tenant.base_url,
                    api_key,
                    rate_limiter=self.engage_limiter,
                    session=self.session,
                    retry=NO_RETRY,
                    timeouts=Timeouts(connect_s=deadline_s, read_s=deadline_s),
                    rate_lane=lane,
                    max_rate_wait_s=deadline_s,
                )
                self._clients[slot] = client
            return client
