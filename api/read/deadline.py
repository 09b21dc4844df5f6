"""A call that answers within its deadline or is given up: never a hang at the till.

``call_within(fn, deadline_s)`` runs ``fn`` on a shared thread pool and waits at most ``deadline_s``;
past it, ``DeadlinePassed`` is raised and the call is left to finish on its own (its sockets time out
within the same deadline, so a given-up call frees its thread soon after). A full pool is itself a
reason to give up: a read waits for a thread no longer than its deadline.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

READ_POOL_THREADS: Final = 32
"""Engage calls in flight per API process; at 0.5 s each that is 64 reads/s from Engage at worst, far
above one process's share of a key's 40/s budget (the cache answers the rest)."""

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=READ_POOL_THREADS, thread_name_prefix="api-read")


class DeadlinePassed(TimeoutError):
    """The call did not answer within its deadline."""


def call_within(fn: Callable[[], T], deadline_s: float) -> T:
    """``fn()``'s result or exception, if it comes within ``deadline_s``; else ``DeadlinePassed``."""
    if deadline_s <= 0:
        raise DeadlinePassed("no time left")
    future = _pool.submit(fn)
    try:
        return future.result(timeout=deadline_s)
    except concurrent.futures.TimeoutError:
        future.cancel()  # still queued: never runs; running: finishes on its own, its answer unused
        raise DeadlinePassed(f"no answer within {deadline_s:.3f} s") from None
