"""The broker transport: kombu's Redis transport, with one synchronous Redis client per channel.

kombu's Redis channel builds a new `redis.Redis` object for every acknowledgement, every unacked-index
update and every task-event publish (`Channel.conn_or_acquire`), each on the same connection pool; a
`redis.Redis` costs its response-callback table to build (about 0.1 ms here), which was a tenth of the
worker's CPU per event and as much of the mover's. The client is thread-safe (each command borrows a
connection from the pool), so this channel keeps one per pool and builds it again only when kombu
replaced the pool (after a reconnect). Everything else is kombu's: the wire format, the queues, the
prefetch count (ack emulation, kombu's unacked index, is off: workers/celery_app.py).

Named in the Celery configuration as `broker_transport` (workers/celery_app.py) for a `redis://` broker;
a `rediss://` or `unix://` one keeps kombu's own choice (its TLS defaults, its socket transport).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis

TRANSPORT = "workers.broker:Transport"
PLAIN_SCHEME = "redis://"


def transport_for(broker_url: str) -> str | None:
    """This module's transport for a plain `redis://` broker, else None (kombu picks by the scheme)."""
    return TRANSPORT if broker_url.startswith(PLAIN_SCHEME) else None


class Channel(kombu_redis.Channel):
    _sync_client: Any = None
    _sync_client_pool: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[no-untyped-call]
        pool = self.pool
        client = self._sync_client
        if client is None or self._sync_client_pool is not pool:
            client = super()._create_client(asynchronous=False)  # type: ignore[no-untyped-call]
            self._sync_client, self._sync_client_pool = client, pool
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
