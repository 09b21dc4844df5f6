"""`sweep_sender(app)`: a sweep sent from a thread Celery did not start reaches the app's broker."""

from __future__ import annotations

import json
import threading

import redis
from celery import Celery

from tasks.fallback import SWEEP_TASK, sweep_sender
from tasks.routing import FALLBACK_QUEUE


def test_a_sweep_sent_from_the_movers_thread_goes_to_the_processs_broker(
    redis_url: str, redis_client: redis.Redis
) -> None:
    # Given the process's app on its Redis, and a thread of our own (as the ingest's mover is)
    app = Celery("engage_relay_test", broker=redis_url, set_as_current=False)
    send = sweep_sender(app)
    # When the thread sends a sweep of one tenant
    thread = threading.Thread(target=send, args=("acme", 0.0))
    thread.start()
    thread.join(timeout=10)
    # Then the sweep is on the fallback queue of that Redis, for that tenant
    raw = redis_client.lpop(FALLBACK_QUEUE)
    assert raw is not None
    message = json.loads(raw)
    assert message["headers"]["task"] == SWEEP_TASK
    assert "acme" in message["headers"]["kwargsrepr"]
