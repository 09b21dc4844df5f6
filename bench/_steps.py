"""The CPU of an event's steps: `time.thread_time` around chosen functions of the relay, while a block runs.

Each function is replaced, for the block only, by a wrapper that adds the thread's CPU time spent inside
it (inclusive: a step's figure holds the steps it calls) to that step's total, then put back. A function
imported by name into another module is replaced there too. The wrapper costs about a microsecond a call.
Sampling profilers misplace this workload's time (py-spy `--gil` put 13 % of a receipt in http.client's
header parsing, 18 us an answer timed alone; cProfile inflates Python-heavy code), hence the clock.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

STEPS: tuple[tuple[str, str, str], ...] = (
    ("the Engage calls", "engage.transport", "BaseEngageClient.request"),
    ("  requests and urllib3", "engage.transport", "BaseEngageClient._exchange"),
    ("  the shared rate limiter", "engage.ratelimit", "_SlotLimiter.acquire"),
    ("the last write", "relay.settle", "finish"),
    ("  its script", "relay.closing", "commit"),
    ("the start script", "relay.start", "start"),
    ("the contactId reads", "engage.contact_store", "RedisContactIdStore.get"),
    ("remembering the contactId", "relay.resolve", "_remember"),
    ("the receipt's mapping", "mappers.receipts", "receipt_request"),
    ("parsing the event", "relay.run", "decode"),
)
"""(label, module, function or Class.method), in the order printed; indented ones are inside the one above."""


@dataclass
class StepTimes:
    cpu_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    def clear(self) -> None:
        self.cpu_s.clear()
        self.calls.clear()

    def lines(self, events: int) -> list[str]:
        return [
            f"  {label:30} {self.cpu_s[label] * 1e6 / events:8.0f}  ({self.calls[label] / events:.2f} calls)"
            for label, _, _ in STEPS
        ]


def _timed(label: str, fn: Callable[..., Any], times: StepTimes) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            times.cpu_s[label] += time.thread_time() - started
            times.calls[label] += 1

    return wrapper


def _holds(module: object, name: str, value: object) -> bool:
    try:
        return module is not None and getattr(module, name, None) is value
    except Exception:  # a module's own __getattr__ may refuse
        return False


@contextlib.contextmanager
def timed_steps() -> Iterator[StepTimes]:
    times = StepTimes()
    restore: list[tuple[object, str, Any]] = []
    try:
        for label, module_name, qualname in STEPS:
            owner: Any = importlib.import_module(module_name)
            *path, name = qualname.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
            wrapper = _timed(label, original, times)
            holders = [owner]
            if not path:  # a module function: also where it was imported by name
                holders += [m for m in list(sys.modules.values()) if _holds(m, name, original)]
            for holder in holders:
                restore.append((holder, name, original))
                setattr(holder, name, wrapper)
        yield times
    finally:
        for holder, name, original in reversed(restore):
            setattr(holder, name, original)
