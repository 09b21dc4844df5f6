"""workers: process bootstrap only; nothing imports it but the entry points.

- cli: the `engage-relay` command; commands/: one module per operator command (auto-discovered).
- settings: `Settings` (read once from the environment); tenants_file, tenant_store: the tenant registry.
- celery_app: the Celery application and its defaults; beat: beat's schedule; runtime_factory: Redis-backed
  task runtime.
- ingest, ingest_process: the stream consumer.
- logs, metrics, metrics_collector, relay_state: observability.
- demo_*: `engage-relay demo`; migration/: `engage-relay migrate`.
"""
