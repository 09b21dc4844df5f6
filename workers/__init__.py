"""workers: process bootstrap only; nothing imports it but the entry points.

- process: `ProcessEnv` (the settings and the environment, read once per process), `pass_env`.
- settings: `Settings` (built by `ProcessEnv`, never elsewhere).
- cli: the `engage-relay` command; commands/: one module per operator command (imported on use).
- celery_app: the Celery application and its defaults; beat: beat's schedule and the module-level app;
  runtime_factory: the Redis-backed relay runtime of a worker.
- ingest, ingest_process: the stream consumer process.
- logs, metrics, metrics_collector: observability.
- demo/: `engage-relay demo` (the stack, its data, its FTP drop, its report).
"""
