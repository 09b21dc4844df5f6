"""tasks: the Celery adapter only.

Public API:

- events: the Celery tasks, one per flow, with stable names (`engage.contacts.upsert`,
  `engage.receipts.create`, `engage.receipts.create_return`, `engage.promotions.assign`,
  `engage.promotions.redeem`, `engage.vouchers.redeem`, `engage.orders.sync`,
  `engage.tracking.product_view`, `engage.tracking.cart`); each names its `relay.handlers` handler.
- fallback: `engage.fallback.sweep` and `send_sweep` (what the relay's sweep kick is given).
- adapter: `run_task(task, handler, job=)`: a Celery message to `relay.run.run_job`, giving back the
  outcome's name; `run_message` is the same run with the whole outcome (the test harness reads it).
- routing: `TASK_FOR_TYPE`, `task_for(type)`, `queue_for(tenant)` (one queue per tenant), `FALLBACK_QUEUE`.

Everything an event's life needs is in `relay/`; nothing here decides anything about an event.
"""
