"""tasks: the Celery tasks and everything they need to apply an event to Engage.

Public API:

- events: the Celery tasks, one per flow, with stable names (`engage.contacts.upsert`,
  `engage.receipts.create`, `engage.receipts.create_return`, `engage.promotions.assign`,
  `engage.promotions.redeem`, `engage.vouchers.redeem`, `engage.orders.sync`,
  `engage.tracking.product_view`, `engage.tracking.cart`);
  `fallback`: `engage.fallback.sweep`.
- routing: `TASK_FOR_TYPE`, `task_for(type)`, `queue_for(tenant)` (one queue per tenant), `FALLBACK_QUEUE`.
- base: `run_event(task, envelope, handler, attempt=, maybe_delivered=)` (decode, idempotency, breaker,
  classify by the error tree, ladder, dead letter, outcome), `EventContext`, `Applied`.
- settle: what ends an event (`record` an outcome, `reject`, `dead_letter`), no Engage calls.
- handlers: `contacts`, `receipts`, `loyalty`, `orders`, `tracking`: `(EventContext, event) -> Applied`.
- resolve: `resolve_contact`, `resolve_buyer`, `find_contact`, `identity_plan`.
- ledger: `Ledger` (applied markers, claims, per-field clocks, contact locks, assignments), `RedisLedger`,
  `MemoryLedger`, `plan_fields`.
- retry: `RETRY_LADDER_S`, `countdown_for`, `parse_ladder`, `check_ladder`.
- breaker: `CircuitBreaker`, `RedisCircuitBreaker`, `MemoryCircuitBreaker`, `BreakerPolicy`, `verdict`.
- outcomes: `Outcome`, `OutcomeSink`, `RedisOutcomeSink`, `MemoryOutcomeSink`.
- tenants: `Tenant`, `TenantRegistry`, `UnknownTenant`.
- runtime: `Runtime` (per-process resources), `install_factory`, `install`, `current`.
- fallback_sweep / fallback_records / fallback_bulk / fallback_letters: the sweep that turns dead letters
  into files or bulk requests, from the same mappers as the API path (`sweep_tenant`, `plan_letters`).
- keys: every Redis key the relay owns.
"""
