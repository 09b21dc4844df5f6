"""Silence alerts per tenant: "no events of a kind for N minutes within trading hours".

A rule names an event type, the minutes of silence that count, and the tenant's trading hours (local
time in the tenant's time zone). Rules live in Redis (`engage:console:silence:<tenant>`, JSON). `silent`
is pure: it takes when each type was last seen (console.history) and the time now. The status page
shows the alerts and the gauge `engage_relay_silent` (1 per silent tenant and type) exposes them.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, time, timedelta
from typing import Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis
from pydantic import BaseModel, ConfigDict, Field, field_validator

SILENCE_PREFIX = "engage:console:silence"
DEFAULT_TIMEZONE = "Europe/Stockholm"


class SilenceRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    minutes: int = Field(ge=1, le=7 * 24 * 60)
    opens: time = time(8, 0)
    closes: time = time(20, 0)
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Stockholm)") from None
        return value

    def trading(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        return self.opens <= local < self.closes


def silent(rule: SilenceRule, last_seen_s: float | None, now: datetime | None = None) -> bool:
    """Whether the rule's type has been silent for its minutes, all of them within trading hours."""
    now = now or datetime.now(UTC)
    window_start = now - timedelta(minutes=rule.minutes)
    if not (rule.trading(now) and rule.trading(window_start)):
        return False
    return last_seen_s is None or last_seen_s < window_start.timestamp()


class SilenceStore(Protocol):
    def rules(self, tenant: str) -> list[SilenceRule]: ...

    def save(self, tenant: str, rules: list[SilenceRule]) -> None: ...


class RedisSilenceStore:
    def __init__(self, client: redis.Redis, prefix: str = SILENCE_PREFIX) -> None:
        self._redis = client
        self._prefix = prefix

    def rules(self, tenant: str) -> list[SilenceRule]:
        raw = cast(bytes | None, self._redis.get(f"{self._prefix}:{tenant}"))
        return [SilenceRule.model_validate(r) for r in json.loads(raw)] if raw else []

    def save(self, tenant: str, rules: list[SilenceRule]) -> None:
        self._redis.set(f"{self._prefix}:{tenant}", json.dumps([r.model_dump(mode="json") for r in rules]))


class MemorySilenceStore:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._rules: dict[str, list[SilenceRule]] = {}

    def rules(self, tenant: str) -> list[SilenceRule]:
        with self._guard:
            return list(self._rules.get(tenant, []))

    def save(self, tenant: str, rules: list[SilenceRule]) -> None:
        with self._guard:
            self._rules[tenant] = list(rules)
