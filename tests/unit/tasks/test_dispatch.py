"""`CeleryDispatch.send_all`: a pass's jobs reach the broker in one publish, or none counts as sent."""

from __future__ import annotations

import json

import pytest
import redis
from celery import Celery
from kombu.exceptions import OperationalError

from relay.run import job_for
from relay.schedule import Job
from tasks.dispatch import CeleryDispatch
from tasks.routing import queue_for, task_for
from tests.support.processes import free_port
from tests.support.round_trips import round_trips
from workers.broker import transport_for

ENVELOPE = {"id": "evt-1", "tenant": "acme", "type": "customer.created", "payload": {}}


def app_on(url: str) -> Celery:
    app = Celery("engage_relay_test", broker=url, set_as_current=False)
    app.conf.update(
        broker_transport=transport_for(url),
        broker_connection_retry=False,
        broker_connection_max_retries=0,
        task_publish_retry=False,
    )
    return app


def jobs(count: int, lane: str = "live") -> list[Job]:
    return [job_for(ENVELOPE | {"id": f"evt-{n}"}).model_copy(update={"lane": lane}) for n in range(count)]


def test_every_job_of_a_pass_is_one_task_message_on_its_lane_s_queue(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the live and backlog jobs of one pass, the broker connected and both queues declared
    live, backlog = jobs(3), jobs(2, "backlog")
    dispatch = CeleryDispatch(app_on(redis_url))
    dispatch.send_all(jobs(1) + jobs(1, "backlog"))
    redis_client.delete(queue_for("acme", "live"), queue_for("acme", "backlog"))
    # When they are sent together
    with round_trips(monkeypatch) as count:
        dispatch.send_all(live + backlog)
    # Then they took one round trip to the broker, not one a message
    assert count[0] == 1
    # Then each lane's queue holds its jobs as task messages, in order, naming the job and not its envelope
    for lane_jobs, lane in ((live, "live"), (backlog, "backlog")):
        queue = queue_for("acme", lane)  # type: ignore[arg-type]  # the two lanes
        raw = redis_client.lrange(queue, 0, -1)
        messages = [json.loads(m) for m in reversed(raw)]  # LPUSH: the newest first
        assert [m["headers"]["task"] for m in messages] == [task_for("customer.created")] * len(lane_jobs)
        shown = [m["headers"]["kwargsrepr"] for m in messages]
        assert shown == [f"{{'job': 'acme/{j.event_id} attempt 0 ({lane})'}}" for j in lane_jobs]


def test_a_broker_that_is_down_raises_for_the_whole_pass() -> None:
    # Given a broker nobody listens on
    dispatch = CeleryDispatch(app_on(f"redis://127.0.0.1:{free_port()}/0"))
    # When a pass's jobs are sent, then the mover hears of it (and unleases them all)
    with pytest.raises(OperationalError, match="Connection refused"):
        dispatch.send_all(jobs(3))
