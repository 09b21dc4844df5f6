"""relay: the core that applies one event to Engage, free of Celery (the Celery adapter is `tasks/`).

Public API:

- run: `run_event(delivery, envelope, handler)` (decode, idempotency, breaker, classify by the error tree,
  ladder, dead letter, outcome), `Delivery`, `RetryLater` (the adapter turns it into a task retry).
- context: `EventContext`, `Applied`, `Handler` (a handler function with the event classes it takes).
- handlers: one `Handler` per flow (`CUSTOMER`, `PURCHASE`, `RETURN`, `ASSIGNMENT`, `PROMOTION_REDEMPTION`,
  `VOUCHER_REDEMPTION`, `ORDER`, `PRODUCT_VIEW`, `CART`); the functions in handlers/<family>.py.
- resolve: `resolve_contact`, `resolve_buyer` (with the mapper's `plan_implicit_create`), `find_contact` and
  `known_contact` (a `Lookup`), `contact_ref`.
- settle: what ends an event (`record` an outcome, `reject`, `dead_letter`), no Engage calls.
- errors: the relay's branches of the error tree (`ContactBusy`, `EventUndecodable`, `UnknownTenant`).
- ledger: `Ledger` (applied markers, claims, per-field clocks, contact locks, assignments), `RedisLedger`,
  `MemoryLedger`, `plan_fields`.
- retry: `RETRY_LADDER_S`, `countdown_for`, `parse_ladder`, `check_ladder`.
- breaker: `CircuitBreaker`, `RedisCircuitBreaker`, `MemoryCircuitBreaker`, `BreakerPolicy`, `verdict`.
- outcomes: `Outcome`, `OutcomeSink`, `RedisOutcomeSink`, `MemoryOutcomeSink`.
- tenants: `Tenant`, `TenantRegistry`, `UnknownTenant`; tenants_file: `load_registry(sources, env)`,
  `TenantSources`, `load_tenants_file`; tenant_store: the encrypted tenant store (`RedisTenantStore`,
  `SecretBox`).
- runtime: `Runtime` (per-process resources), `FileHooks`, `install_factory`, `install`, `current`.
- spill: the fallback sweep that turns dead letters into files or bulk requests (`sweep.sweep_tenant`,
  `bulk`, `letters`, `kick.DebouncedSweepKick`); the records themselves are `fallback.records`.
- state: the relay's state as Redis holds it (for `status`, the metrics and the console);
  connection_check: `engage-relay tenants test`.
- keys: every Redis key the relay itself owns.

Imports `schemas`, `engage`, `mappers` and `fallback`; never Celery, never `workers`.
"""
