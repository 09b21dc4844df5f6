"""What the HTTP service is configured with: deadlines, cache TTLs, the per-token budget, the stream.

``ApiSettings`` is built by the process entry point (``workers/api_process.py``) from the process's
``Settings``; tests and the console build one directly. Every default is a named constant here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from api.ratelimit import DEFAULT_REQUEST_BUDGET, RequestBudget
from relay.readcache import CacheTtl
from schemas.publish import EVENTS_STREAM

DEFAULT_READ_DEADLINE_S: Final = 0.5
"""A read (lookup, overview, vouchers, promotions) answers within this, from Engage or the cache: a till
waits at most half a second for the customer's offers, far below what a cashier notices as a hang, yet
several Engage round trips long (its overview answers in ~100 ms)."""
DEFAULT_ASSIGN_DEADLINE_S: Final = 3.0
"""The synchronous assignment of the POS welcome offer: a write, with no cache to fall back on, so it is
given longer; the till shows a spinner and the sale goes on without the offer past it."""
MAX_DEADLINE_S: Final = 10.0

MAX_REQUEST_BYTES: Final = 5 * 1024 * 1024
"""One POST /v1/events body at most (413 beyond): a thousand ordinary envelopes fit with room to spare."""
MAX_EVENT_BYTES: Final = 512 * 1024
"""One envelope at most (413 beyond): a receipt of several hundred lines is well under 100 KiB."""
MAX_EVENTS_PER_REQUEST: Final = 1000
"""Events in one request at most (413 beyond); a bigger backlog is sent in several requests."""


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP service's knobs (the process's ``Settings`` names their environment variables)."""

    read_deadline_s: float = DEFAULT_READ_DEADLINE_S
    assign_deadline_s: float = DEFAULT_ASSIGN_DEADLINE_S
    cache_ttl: CacheTtl = field(default_factory=CacheTtl)
    request_budget: RequestBudget = DEFAULT_REQUEST_BUDGET
    events_stream: str = EVENTS_STREAM
    docs: bool = True  # serve /docs (the OpenAPI document at /openapi.json is always served)

    def __post_init__(self) -> None:
        for name in ("read_deadline_s", "assign_deadline_s"):
            value = getattr(self, name)
            if not 0 < value <= MAX_DEADLINE_S:
                raise ValueError(f"{name} must be above 0 and at most {MAX_DEADLINE_S:g} s")
