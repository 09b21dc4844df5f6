"""The module-level Celery app for `celery -A workers.beat:app ...` (beat and Flower), and beat's schedule.

`BEAT_SCHEDULE` is empty for now: the fallback sweep (dead letters to XML files and uploads) will be
scheduled here. Beat runs as one process per deployment (never two: each would send every entry).
"""

from __future__ import annotations

from typing import Any

from workers.celery_app import create_app

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {}

app = create_app()
app.conf.beat_schedule = BEAT_SCHEDULE
