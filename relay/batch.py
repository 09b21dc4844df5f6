"""One atomic write for the steps that end or park an event: the outcome, the settled marker, the schedule
and the trail change together or not at all.

A `Batch` is a Redis transaction (MULTI/EXEC) when the runtime has Redis: each Redis-backed store adds its
commands to it (`*_in` methods), and `commit` sends them in one round trip. A scripted batch sends them
as the arguments of one Lua script instead (`RUN_QUEUED_LUA`), as atomic as the transaction, so that a
caller can put its own checks and writes around them in the same script and round trip (the last write of
a run: relay/closing.py). The in-memory twins (and a store on another Redis) add a callable instead, run
after the transaction. A crash can then never leave an
outcome recorded without its marker (a second outcome on re-drive), or a marker without its outcome (an
event that ends silently).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

import redis
from redis.client import EMPTY_RESPONSE, Pipeline
from redis.commands.core import Script
from redis.typing import EncodableT

# A Lua function that runs the queued commands a scripted batch passes from ARGV[first] on: for each
# command its number of arguments, then the command and its arguments. The commands name their own keys
# (a single Redis, as everywhere in the relay; not Redis Cluster). As EXEC does, a command that fails does
# not stop the ones after it: the first error is returned (nil when none), for the script to answer with
# `redis.error_reply` once it has done its own steps.
RUN_QUEUED_LUA = """
local function run_queued(first)
  local i, failed = first, nil
  while i <= #ARGV do
    local n = tonumber(ARGV[i])
    local reply = redis.pcall(unpack(ARGV, i + 1, i + n))
    if type(reply) == 'table' and reply.err and not failed then failed = reply.err end
    i = i + n + 1
  end
  return failed
end
"""
_RUN_ALL_LUA = (
    RUN_QUEUED_LUA
    + """
local failed = run_queued(1)
if failed then return redis.error_reply(failed) end
return 1
"""
)
_NOT_IN_A_SCRIPT = frozenset(
    {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT", "FUNCTION"}
    | {"MULTI", "EXEC", "WATCH", "UNWATCH", "DISCARD"}
)
MAX_SCRIPTED_COMMAND_ARGS = 7000  # Lua's `unpack` stops near 8000 values; a transaction has no such limit

_scripts: weakref.WeakKeyDictionary[redis.Redis, dict[str, Script]] = weakref.WeakKeyDictionary()


def script_for(client: redis.Redis, source: str) -> Script:
    """`client.register_script(source)`, once per client and source."""
    known = _scripts.setdefault(client, {})
    script = known.get(source)
    if script is None:
        script = known[source] = client.register_script(source)
    return script


class Batch:
    """One transaction; with `watch`, an optimistic one: `commit` raises `redis.WatchError` when a watched
    key changed since the batch began (the caller reads, decides, and tries again)."""

    def __init__(
        self, client: redis.Redis | None, *, watch: Sequence[str] = (), scripted: bool = False
    ) -> None:
        if scripted and watch:
            raise ValueError("a scripted batch checks inside its script: it watches nothing")
        self._client = client
        self._scripted = scripted
        self._pipe: Pipeline | None = None if client is None else client.pipeline(transaction=not scripted)
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

    @property
    def scripted(self) -> bool:
        """Whether `commit_in` can send this batch (a scripted batch on Redis)."""
        return self._scripted and self._client is not None

    def commit(self) -> None:
        if self._pipe is not None and self._scripted:
            self.commit_in(_RUN_ALL_LUA, [])
        elif self._pipe is not None:
            self._pipe.execute()
        self.run_after()

    def commit_in(self, source: str, head: Sequence[EncodableT]) -> Any:
        """Send the queued commands inside the script `source` (which defines `RUN_QUEUED_LUA` and calls
        `run_queued(len(head) + 1)`, or not, as it decides), with `head` as its first arguments; return
        what the script returns. The steps of `then` are the caller's to run (`run_after`)."""
        if self._pipe is None or self._client is None or not self._scripted:
            raise TypeError("commit_in needs a scripted batch on Redis")
        args: list[EncodableT] = list(head)
        try:
            for command, options in self._pipe.command_stack:
                if EMPTY_RESPONSE in options:
                    continue  # a command with nothing to do (an MGET of no keys): a transaction sends none
                words = [*str(command[0]).split(), *command[1:]]  # "CLIENT SETNAME" is two words on the wire
                if words[0].upper() in _NOT_IN_A_SCRIPT or len(words) > MAX_SCRIPTED_COMMAND_ARGS:
                    raise ValueError(f"{words[0]} ({len(words) - 1} arguments) cannot run in a script batch")
                args.append(len(words))
                args.extend(words)
        finally:
            self._pipe.reset()
        return script_for(self._client, source)(keys=[], args=args)

    @property
    def has_after(self) -> bool:
        """Whether steps of stores that could not join wait for the commit (`then`)."""
        return bool(self._after)

    def run_after(self) -> None:
        """Run the steps of the stores that could not join (once the batch is committed)."""
        for step in self._after:
            step()
        self._after.clear()
