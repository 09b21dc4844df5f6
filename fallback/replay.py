"""Replay: put a dead letter's original envelope back on the events stream, exactly once per operator action.

A replay first takes a claim (Redis `SET NX` with a TTL) on the dead letter, so two operators replaying
the same letters at once never both publish one; then it publishes the original envelope (unchanged) with
`schemas.publish.publish`, and only then removes the dead letter. A crash between publishing and removing
leaves the letter in place (its claim expires): replaying it again publishes it a second time, which the
relay's idempotency makes harmless (the applied marker, uniqueReceiptId). Losing it would not be.

The envelope goes through the backlog lane (the stream entry's `lane` field), so a replay of thousands
never delays today's live events. Nothing else has to be cleared first: a dead-lettered event has no
settled marker (relay/ledger.py), so a replayed event is admitted and applied normally; a letter that was
delivered by file is settled, and its replay is dropped as a duplicate.

Letters already delivered by the file fallback (`fallback_state="delivered_by_file"`) are skipped unless
asked for: Engage already has them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import redis

from fallback.deadletters import DLQ_PREFIX, DeadLetter, DeadLetterStore
from schemas.publish import EVENTS_STREAM, publish

REPLAY_CLAIM_TTL_S = 300  # a replay that died holds its claim this long; then another may replay it

ReplayAction = Literal["replayed", "would_replay", "claimed_elsewhere", "gone", "skipped_delivered"]

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Claims:
    """Short exclusive claims on named items (SET NX EX), released only by their holder."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int = REPLAY_CLAIM_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._release = client.register_script(_RELEASE_LUA)

    def take(self, name: str) -> str | None:
        token = uuid.uuid4().hex
        taken = self._redis.set(f"{self._prefix}:{name}", token, nx=True, ex=self._ttl_s)
        return token if taken else None

    def release(self, name: str, token: str) -> None:
        self._release(keys=[f"{self._prefix}:{name}"], args=[token])


@dataclass(frozen=True)
class ReplayResult:
    letter_id: str
    action: ReplayAction
    stream_entry: str | None = None


class DeadLetterReplayer:
    """Replays dead letters onto the events stream; one claim per letter keeps operators from racing."""

    def __init__(
        self,
        client: redis.Redis,
        store: DeadLetterStore,
        *,
        stream: str = EVENTS_STREAM,
        claim_prefix: str = f"{DLQ_PREFIX}:claim",
    ) -> None:
        self._redis = client
        self._store = store
        self.stream = stream
        self._claims = Claims(client, claim_prefix)

    def replay(
        self, letter: DeadLetter, *, dry_run: bool = False, include_delivered: bool = False
    ) -> ReplayResult:
        if letter.fallback_state == "delivered_by_file" and not include_delivered:
            return ReplayResult(letter.id, "skipped_delivered")
        if dry_run:
            return ReplayResult(letter.id, "would_replay")
        token = self._claims.take(letter.id)
        if token is None:
            return ReplayResult(letter.id, "claimed_elsewhere")
        try:
            current = self._store.get(letter.id)  # re-read under the claim: another replay may have ended
            if current is None:
                return ReplayResult(letter.id, "gone")
            entry = publish(self._redis, current.envelope, self.stream, backlog=True)
            self._store.drop(letter.id)
            return ReplayResult(letter.id, "replayed", entry)
        finally:
            self._claims.release(letter.id, token)
