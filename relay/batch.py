"""One atomic write for the steps that end or park an event: the outcome, the settled marker, the schedule
and the trail change together or not at all.

A `Batch` is a Redis transaction (MULTI/EXEC) when the runtime has Redis: each Redis-backed store adds its
commands to it (`*_in` methods), and `commit` sends them in one round trip. The in-memory twins (and a
store on another Redis) add a callable instead, run after the transaction. A crash can then never leave an
outcome recorded without its marker (a second outcome on re-drive), or a marker without its outcome (an
event that ends silently).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import redis
from redis.client import Pipeline


class Batch:
    """One transaction; with `watch`, an optimistic one: `commit` raises `redis.WatchError` when a watched
    key changed since the batch began (the caller reads, decides, and tries again)."""

    def __init__(self, client: redis.Redis | None, *, watch: Sequence[str] = ()) -> None:
        self._client = client
        self._pipe: Pipeline | None = None if client is None else client.pipeline(transaction=True)
        self._watching = bool(watch) and self._pipe is not None
        if self._pipe is not None and watch:
            cast(Any, self._pipe).watch(*watch)  # redis-py leaves Pipeline.watch untyped
        self._after: list[Callable[[], object]] = []

    def pipeline_for(self, client: redis.Redis) -> Pipeline | None:
        """The transaction, when `client` talks to the same Redis as the batch (else None: use `then`)."""
        if self._pipe is None or self._client is None:
            return None
        if client is self._client or client.connection_pool is self._client.connection_pool:
            if self._watching:
                self._pipe.multi()
                self._watching = False
            return self._pipe
        return None

    def abort(self) -> None:
        """Queue nothing more, send nothing (and stop watching)."""
        if self._pipe is not None:
            self._pipe.reset()
        self._after.clear()

    def then(self, step: Callable[[], object]) -> None:
        """A step of a store that cannot join the transaction (a twin): run once it is committed."""
        self._after.append(step)

    def commit(self) -> None:
        if self._pipe is not None:
            self._pipe.execute()
        for step in self._after:
            step()
        self._after.clear()
