"""The broker transport: kombu's Redis transport with one sync client per channel, for redis:// only."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from workers import broker
from workers.celery_app import create_app
from workers.process import ProcessEnv

URL = "redis://127.0.0.1:1/0"  # never connected to: building clients opens no socket


def test_a_plain_redis_broker_gets_the_transport_and_tls_or_sockets_keep_kombus() -> None:
    assert broker.transport_for(URL) == broker.TRANSPORT
    assert broker.transport_for("rediss://h:6380/0") is None
    assert broker.transport_for("unix:///run/redis.sock") is None


def test_the_app_as_shipped_uses_it_and_sends_no_task_events() -> None:
    app = create_app(ProcessEnv({"REDIS_URL": URL}))
    with app.connection_for_write() as conn:
        assert isinstance(conn.transport, broker.Transport)
    assert app.conf.worker_send_task_events is False  # Flower turns them on while it runs
    assert app.conf.task_send_sent_event is False


def _channel() -> Any:
    """A channel with its pools made up front (kombu's own __init__ connects to the broker)."""
    channel: Any = broker.Channel.__new__(broker.Channel)
    channel.Client = redis.Redis
    channel._pool = redis.ConnectionPool.from_url(URL)
    channel._async_pool = redis.ConnectionPool.from_url(URL)
    return channel


def test_one_sync_client_per_pool_and_a_new_one_after_the_pool_is_replaced() -> None:
    channel = _channel()
    first = channel._create_client()
    assert channel._create_client() is first
    with channel.conn_or_acquire() as client:
        assert client is first
    assert first.connection_pool is channel._pool
    channel._pool = redis.ConnectionPool.from_url(URL)  # kombu made a new pool after a connection error
    second = channel._create_client()
    assert second is not first
    assert second.connection_pool is channel._pool


def test_the_async_clients_stay_kombus_own() -> None:
    channel = _channel()
    assert channel._create_client(asynchronous=True) is not channel._create_client(asynchronous=True)


@pytest.mark.parametrize("url", ["rediss://127.0.0.1:1/0"])
def test_a_tls_broker_keeps_kombus_transport(url: str) -> None:
    app = create_app(ProcessEnv({"REDIS_URL": url}))
    assert app.conf.broker_transport is None
