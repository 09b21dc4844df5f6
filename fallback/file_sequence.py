"""Import file numbers that are never used twice for a tenant and kind: ``INCR`` in Redis, or in process.

A Voyado import name is ``{YYYYMMDDHHmmss}_{seq}_{kind}.xml`` (fallback/xmlfiles/naming.py). The
timestamp alone repeats whenever two sweeps of a tenant run in the same second, and the outbox is
empty again after each upload, so the number must come from a counter that every sweeper of the
tenant shares: :class:`RedisFileSequence`, one key per tenant and kind
(``engage:fallback:seq:{tenant}:{kind}``, an integer, no expiry, no personal data).
:class:`MemoryFileSequence` is the in-process twin (tests, and the outbox's default when no Redis
client is given: unique within one process only).

Should the counter ever restart (Redis emptied), a repeated name is still caught: the outbox skips
numbers whose file it holds, and the upload never replaces a file already on the server
(fallback/uploaders/base.py).
"""

from __future__ import annotations

import threading
from typing import Final, Protocol, cast

import redis

from fallback.xmlfiles.naming import FileKind

FILE_SEQUENCE_PREFIX: Final = "engage:fallback:seq"


def file_sequence_key(tenant: str, kind: FileKind, prefix: str = FILE_SEQUENCE_PREFIX) -> str:
    return f"{prefix}:{tenant}:{kind}"


class FileSequence(Protocol):
    """Hands out import file numbers: 1, 2, 3, ... per tenant and kind, each once."""

    def next(self, tenant: str, kind: FileKind) -> int:
        """A number this sequence never returned before for ``tenant`` and ``kind``."""
        ...


class RedisFileSequence:
    """The sequence shared by every process that talks to one Redis (``INCR`` is atomic)."""

    def __init__(self, client: redis.Redis, *, prefix: str = FILE_SEQUENCE_PREFIX) -> None:
        self._redis = client
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"RedisFileSequence(prefix={self._prefix!r})"

    def next(self, tenant: str, kind: FileKind) -> int:
        return cast(int, self._redis.incr(file_sequence_key(tenant, kind, self._prefix)))


class MemoryFileSequence:
    """The in-process twin: the same numbers, unique among the threads of one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._last: dict[tuple[str, FileKind], int] = {}

    def __repr__(self) -> str:
        return "MemoryFileSequence()"

    def next(self, tenant: str, kind: FileKind) -> int:
        with self._guard:
            value = self._last.get((tenant, kind), 0) + 1
            self._last[(tenant, kind)] = value
            return value


PROCESS_FILE_SEQUENCE: Final = MemoryFileSequence()
"""The outbox's default: shared by every outbox of this process, so two sweeps of a tenant in one
process never pick the same name; pass a :class:`RedisFileSequence` to share it across processes."""
