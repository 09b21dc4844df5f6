"""The module-level Celery app for `celery -A workers.beat:app ...` (beat and Flower), and beat's schedule.

`BEAT_SCHEDULE` sends the fallback sweep (dead letters to XML files or the bulk API, outbox uploads) every
ENGAGE_RELAY_FALLBACK_SWEEP_S seconds (default 60); the sweep fans out to one task per tenant.
Beat runs as one process per deployment (never two: each would send every entry).
"""

from __future__ import annotations

from typing import Any

from tasks.routing import FALLBACK_QUEUE
from workers.celery_app import create_app
from workers.process import ProcessEnv
from workers.settings import Settings

FALLBACK_SWEEP_ENTRY = "engage-fallback-sweep"


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        FALLBACK_SWEEP_ENTRY: {
            "task": "engage.fallback.sweep",
            "schedule": settings.fallback_sweep_s,
            # expires: a sweep that waited this long behind event tasks is dropped (the next one comes);
            # never shorter than a minute, or busy workers would let every sweep expire unrun
            "options": {"queue": FALLBACK_QUEUE, "expires": max(settings.fallback_sweep_s * 5, 60.0)},
        }
    }


ENV = ProcessEnv()  # this module is the entry point of `celery -A workers.beat:app beat|flower`
BEAT_SCHEDULE: dict[str, dict[str, Any]] = beat_schedule(ENV.settings)

app = create_app(ENV)
app.conf.beat_schedule = BEAT_SCHEDULE
