"""Fault settings and the middleware that applies them, with auth, content type and rate limit.

Order on an Engage route (never on `/_sim/*`): outage (503 at once) -> auth (401) -> per-key rate
limit (429) -> content type (500) -> latency (lognormal fitted to p50/p99) -> injected error (the
request is NOT applied) -> a documented error asked for (`inject` rules or the `X-Sim-Error` header,
`simulator.documented_errors`; applied or not, as asked) -> injected timeout (the request IS applied,
the answer held `timeout_s`).
Every answer is counted under "METHOD /route/template" and its status; User-Agents are counted.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import structlog
from aiohttp import web

from simulator.documented_errors import Injection, checked_rule, from_headers, take_rule
from simulator.errors import ApiError, error_response

Z_99 = 2.3263478740408408  # the standard normal's 99th percentile
ADMIN_PREFIX = "/_sim/"
RATE_WINDOW_S = 1.0
ERROR_CODES = {
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

log = structlog.get_logger("simulator")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FaultSettings:
    """What `PUT /_sim/faults` merges into; `GET /_sim/faults` returns it."""

    outage: bool = False
    latency_ms: dict[str, float] | None = None
    error_rate: float = 0.0
    error_statuses: list[int] = field(default_factory=lambda: [500, 503, 504])
    timeout_rate: float = 0.0
    timeout_s: float = 30.0
    rate_limit: int = 200
    retry_after_s: float | None = None
    seed: int | None = None
    inject: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, changes: Any) -> FaultSettings:
        """A copy with `changes` applied; ApiError 400 on an unknown key or a bad value."""
        if not isinstance(changes, dict):
            raise ApiError(400, "InvalidFaults", "The body must be a JSON object")
        unknown = sorted(set(changes) - set(self.to_json()))
        if unknown:
            raise ApiError(400, "InvalidFaults", f"Unknown fault settings: {unknown}")
        merged = FaultSettings(**{**self.to_json(), **changes})
        merged.check()
        return merged

    def check(self) -> None:
        def bad(why: str) -> ApiError:
            return ApiError(400, "InvalidFaults", why)

        for name in ("error_rate", "timeout_rate"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise bad(f"{name} must be between 0 and 1")
        if self.latency_ms is not None:
            p50, p99 = self.latency_ms.get("p50"), self.latency_ms.get("p99")
            if not isinstance(p50, int | float) or not isinstance(p99, int | float) or not 0 < p50 <= p99:
                raise bad("latency_ms needs 0 < p50 <= p99 (milliseconds)")
        if not self.error_statuses or any(s not in ERROR_CODES for s in self.error_statuses):
            raise bad(f"error_statuses must be among {sorted(ERROR_CODES)}")
        if not isinstance(self.rate_limit, int) or self.rate_limit < 1:
            raise bad("rate_limit must be a positive integer")
        if not isinstance(self.timeout_s, int | float) or self.timeout_s < 0:
            raise bad("timeout_s must be >= 0")
        if not isinstance(self.inject, list):
            raise bad("inject must be a list of rules")
        self.inject = [checked_rule(rule) for rule in self.inject]


def latency_sample_s(latency_ms: dict[str, float], rng: random.Random) -> float:
    """A lognormal delay whose median is p50 and whose 99th percentile is p99."""
    mu = math.log(latency_ms["p50"])
    sigma = (math.log(latency_ms["p99"]) - mu) / Z_99
    return rng.lognormvariate(mu, sigma) / 1000.0


def _rng(seed: int | None) -> random.Random:
    return random.Random(seed)  # noqa: S311 - simulated latency and faults, not cryptography


class RateLimiter:
    """A fixed one-second window per API key: at most `limit` admitted requests per window."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def admit(self, key: str, limit: int, now_s: float | None = None) -> bool:
        window = int((time.monotonic() if now_s is None else now_s) / RATE_WINDOW_S)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= limit:
            return False
        self._windows[key] = (start, count + 1)
        return True

    def clear(self) -> None:
        self._windows.clear()


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else "<unmatched>"
    return f"{request.method} {path}"


def is_json_content_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


class FaultGate:
    """The per-process fault state that the middleware consults."""

    def __init__(self, api_keys: tuple[str, ...], rate_limit: int) -> None:
        self.api_keys = frozenset(api_keys)
        self.default_rate_limit = rate_limit
        self.settings = FaultSettings(rate_limit=rate_limit)
        self.limiter = RateLimiter()
        self.rng = _rng(None)

    def reset(self) -> None:
        self.settings = FaultSettings(rate_limit=self.default_rate_limit)
        self.limiter.clear()
        self.rng = _rng(None)

    def update(self, changes: Any) -> FaultSettings:
        self.settings = self.settings.merged(changes)
        if "seed" in changes:
            self.rng = _rng(self.settings.seed)
        return self.settings

    def api_key(self, request: web.Request) -> str | None:
        """The key the request sends (`apikey`, else `x-api-key`, logged), None without one."""
        key = request.headers.get("apikey")
        if key is None and "x-api-key" in request.headers:
            key = request.headers["x-api-key"]
            log.warning("sim.auth.x_api_key_header", path=request.path)
        return key

    async def before(self, request: web.Request, key: str | None) -> web.Response | None:
        """An early answer (outage, auth, rate limit, content type, injected error), or None."""
        refused = self._gate(request, key)
        if refused is not None:
            return refused
        s = self.settings
        if s.latency_ms is not None:
            await asyncio.sleep(latency_sample_s(s.latency_ms, self.rng))
        if s.error_rate > 0 and self.rng.random() < s.error_rate:
            status = self.rng.choice(s.error_statuses)
            if status == 500:
                return web.json_response({"message": "An error has occurred"}, status=500)
            return error_response(status, ERROR_CODES[status], "Injected error")
        return None

    def _gate(self, request: web.Request, key: str | None) -> web.Response | None:
        s = self.settings
        if s.outage:
            return error_response(503, "ServiceUnavailable", "Engage is unavailable (simulated outage)")
        if key is None or key not in self.api_keys:
            return error_response(401, "Unauthorized", "Missing or unknown API key")
        if not self.limiter.admit(key, s.rate_limit):
            headers = {"Retry-After": f"{s.retry_after_s:g}"} if s.retry_after_s is not None else None
            return error_response(429, "TooManyRequests", "Rate limit exceeded", headers=headers)
        if request.body_exists and not is_json_content_type(request.content_type):
            return web.json_response({"message": "An error has occurred"}, status=500)
        return None

    def documented_error(self, request: web.Request, key: str | None) -> Injection | None:
        """The documented error this request gets (its header first, then the rules), or None."""
        route = route_template(request)
        return from_headers(request, route) or take_rule(self.settings.inject, route, key)

    def hold_s(self) -> float:
        """How long to hold an applied answer (an injected timeout), 0 for none."""
        s = self.settings
        if s.timeout_rate > 0 and self.rng.random() < s.timeout_rate:
            return float(s.timeout_s)
        return 0.0
