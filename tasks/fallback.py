"""The fallback sweep as a Celery task (`engage.fallback.sweep`, queue `engage.fallback`).

Without a tenant (beat, every ``FALLBACK_SWEEP_INTERVAL_S``) it sends one sweep per tenant, so one tenant's
slow or failing file server never delays another's; with a tenant it sweeps that tenant
(relay/spill/sweep.py) under the tenant's lock, and returns at once when another worker is already
sweeping it. `send_sweep` is what the relay's debounced kick (relay/spill/kick.py) is given in a worker;
`sweep_sender(app)` sends through a given app, from any thread (the mover's spill).

The workers that consume `engage.fallback` must see the tenants' outbox folders (`fallback.local_dir`):
one machine, or a shared volume.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import structlog
from celery import Celery, Task, shared_task

from relay import runtime as runtime_slot
from relay.spill.sweep import sweep_lock_for, sweep_tenant
from relay.tenants import UnknownTenant
from tasks.routing import FALLBACK_QUEUE

log = structlog.get_logger("tasks.fallback")

SWEEP_TASK: Final = "engage.fallback.sweep"
FALLBACK_SWEEP_INTERVAL_S: Final = 60.0


@shared_task(name=SWEEP_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep(self: Task, tenant: str | None = None) -> dict[str, Any]:
    rt = runtime_slot.current()
    if tenant is None:
        names = list(rt.registry.names())
        for name in names:
            send_sweep(name)
        return {"tenants": names}
    try:
        target = rt.registry.get(tenant)
    except UnknownTenant:
        log.warning("fallback.sweep.unknown_tenant", tenant=tenant)
        return {"tenant": tenant, "unknown": True}
    return sweep_tenant(rt, target, sweep_lock_for(rt)).as_dict()


def send_sweep(tenant: str, countdown_s: float = 0.0) -> None:
    sweep.apply_async(kwargs={"tenant": tenant}, countdown=countdown_s, queue=FALLBACK_QUEUE)


def sweep_sender(app: Celery) -> Callable[[str, float], None]:
    """`send_sweep` through `app`: for threads Celery did not start (the ingest process's mover), where
    Celery's current app, which is per thread, is its default app and not the process's."""

    def send(tenant: str, countdown_s: float = 0.0) -> None:
        app.send_task(SWEEP_TASK, kwargs={"tenant": tenant}, countdown=countdown_s, queue=FALLBACK_QUEUE)

    return send
