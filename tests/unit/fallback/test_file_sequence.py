"""The file sequence: each number once per tenant and kind, run against the in-memory twin and real Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from fallback.file_sequence import (
    FILE_SEQUENCE_PREFIX,
    FileSequence,
    MemoryFileSequence,
    RedisFileSequence,
    file_sequence_key,
)

THREADS = 8
NUMBERS_PER_THREAD = 50


@pytest.fixture(params=["memory", "redis"])
def sequence(request: pytest.FixtureRequest) -> Iterator[FileSequence]:
    if request.param == "memory":
        yield MemoryFileSequence()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisFileSequence(client)
    client.close()


def test_numbers_count_up_from_one_per_tenant_and_kind(sequence: FileSequence) -> None:
    assert [sequence.next("acme-se", "transactions") for _ in range(3)] == [1, 2, 3]
    # each tenant and each kind has its own numbers
    assert sequence.next("acme-se", "contacts") == 1
    assert sequence.next("acme-no", "transactions") == 1
    assert sequence.next("acme-se", "transactions") == 4


def test_threads_drawing_at_once_never_get_the_same_number(sequence: FileSequence) -> None:
    # Given eight threads that start together
    start = threading.Barrier(THREADS)
    drawn: list[list[int]] = [[] for _ in range(THREADS)]

    def draw(index: int) -> None:
        start.wait()
        for _ in range(NUMBERS_PER_THREAD):
            drawn[index].append(sequence.next("acme-se", "transactions"))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every number was handed out exactly once
    every = [n for numbers in drawn for n in numbers]
    assert sorted(every) == list(range(1, THREADS * NUMBERS_PER_THREAD + 1))


def test_the_redis_key_is_the_fallbacks_own(redis_client: redis.Redis) -> None:
    RedisFileSequence(redis_client).next("acme-se", "transactions")
    assert file_sequence_key("acme-se", "transactions") == f"{FILE_SEQUENCE_PREFIX}:acme-se:transactions"
    assert redis_client.get("engage:fallback:seq:acme-se:transactions") == b"1"
    assert redis_client.ttl("engage:fallback:seq:acme-se:transactions") == -1  # never expires
