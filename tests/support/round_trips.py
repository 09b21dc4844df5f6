"""Counting Redis round trips in a test: every write of a command, or of a whole pipeline, to a server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis.connection import AbstractConnection


@contextmanager
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Within the block, `count[0]` is the number of round trips every Redis client of the process made
    (a command, or a pipeline, is written once and its replies read after; a script the server does not
    know yet costs two more, so warm up first)."""
    count = [0]
    send = AbstractConnection.send_packed_command

    def counted(self: AbstractConnection, command: object, check_health: bool = True) -> None:
        count[0] += 1
        send(self, command, check_health)

    with monkeypatch.context() as patch:
        patch.setattr(AbstractConnection, "send_packed_command", counted)
        yield count
