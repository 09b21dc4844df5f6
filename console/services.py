"""What the console's pages need, built once by the process entry point and handed to `build_router`.

Everything is a protocol or a plain callable, so the pages never read the environment and tests can
swap any part. `redis_services` builds the real ones from one Redis client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from console.audit import AuditLog, RedisAuditLog
from console.auth import LoginAttempts, RedisLoginAttempts, SessionCodec
from console.history import History, read_history
from console.silence import RedisSilenceStore, SilenceStore
from console.users import RedisUserStore, UserStore
from engage.ratelimit import BudgetUse, RedisRateLimiter
from engage.transport import key_fingerprint
from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetterStore, RedisDeadLetterStore
from fallback.rejected import RedisRejectedStore, RejectedStore
from fallback.replay import DeadLetterReplayer
from relay.breaker import BREAKER_OPEN_S, BreakerPolicy, CircuitBreaker, RedisCircuitBreaker
from relay.connection_check import CheckResult, check_connection
from relay.control import RedisTenantControl, TenantControl
from relay.file_check import FileCheck, check_file_server
from relay.keys import OUTCOMES_STREAM
from relay.ledger import Ledger, RedisLedger
from relay.state import RelayState, read_state, redis_breaker_info
from relay.tenant_store import RedisTenantStore
from relay.tenants import Tenant, TenantRegistry
from relay.trail import RedisTrail, Trail
from schemas.publish import EVENTS_STREAM

StateReader = Callable[[list[Tenant]], RelayState]
ConnectionTest = Callable[[Tenant], CheckResult]
FileTest = Callable[[FallbackSettings], FileCheck]
SweepNow = Callable[[str], None]
HistoryReader = Callable[[str], History]
BudgetReader = Callable[[Tenant], BudgetUse]


@dataclass
class ConsoleServices:
    users: UserStore
    audit: AuditLog
    attempts: LoginAttempts
    sessions: SessionCodec
    tenants: Callable[[], TenantRegistry]  # the live registry: a changed or added tenant shows within seconds
    tenant_store: RedisTenantStore | None  # None: no ENGAGE_RELAY_SECRET_KEY, settings can be read only
    deadletters: DeadLetterStore
    replayer: DeadLetterReplayer
    ledger: Ledger  # which dead-lettered events were applied since (a replay skips them)
    rejected: RejectedStore
    trail: Trail
    control: TenantControl
    breaker: CircuitBreaker
    state: StateReader
    silence: SilenceStore
    history: HistoryReader  # outcomes of the last day by hour, and when each type was last seen
    budget_use: BudgetReader  # the rate budget's slots in use right now, live and reads vs backlog
    test_connection: ConnectionTest = check_connection
    test_file_server: FileTest = check_file_server
    sweep_now: SweepNow | None = None  # sends the fallback sweep (and upload) for a tenant now
    secure_cookies: bool = False  # set the session cookie's Secure flag (behind HTTPS)
    file_tenants: frozenset[str] = field(default_factory=frozenset)  # named in the tenants file: read-only


def redis_services(
    client: redis.Redis,
    *,
    session_key: str,
    tenants: Callable[[], TenantRegistry],
    tenant_store: RedisTenantStore | None,
    events_stream: str = EVENTS_STREAM,
    outcomes_stream: str = OUTCOMES_STREAM,
    breaker_open_s: float = BREAKER_OPEN_S,
    sweep_now: SweepNow | None = None,
    secure_cookies: bool = False,
    file_tenants: frozenset[str] = frozenset(),
) -> ConsoleServices:
    deadletters = RedisDeadLetterStore(client)
    limiter = RedisRateLimiter(client)

    def budget_use(tenant: Tenant) -> BudgetUse:
        key_id = key_fingerprint(tenant.api_key.get_secret_value())
        limiter.set_budget(key_id, tenant.rate_budget_per_s, tenant.live_share)
        return limiter.usage(key_id)

    def state(chosen: list[Tenant]) -> RelayState:
        return read_state(
            client,
            chosen,
            events_stream=events_stream,
            outcomes_stream=outcomes_stream,
            breaker_info=redis_breaker_info(client, breaker_open_s),
        )

    return ConsoleServices(
        users=RedisUserStore(client),
        audit=RedisAuditLog(client),
        attempts=RedisLoginAttempts(client),
        sessions=SessionCodec(session_key),
        tenants=tenants,
        tenant_store=tenant_store,
        deadletters=deadletters,
        replayer=DeadLetterReplayer(client, deadletters, stream=events_stream),
        ledger=RedisLedger(client),
        rejected=RedisRejectedStore(client),
        trail=RedisTrail(client),
        control=RedisTenantControl(client),
        breaker=RedisCircuitBreaker(client, BreakerPolicy(open_s=breaker_open_s)),
        state=state,
        silence=RedisSilenceStore(client),
        history=lambda tenant: read_history(client, tenant, stream=outcomes_stream),
        budget_use=budget_use,
        sweep_now=sweep_now,
        secure_cookies=secure_cookies,
        file_tenants=file_tenants,
    )
