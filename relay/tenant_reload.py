"""Hot tenant reload: a registry that follows the encrypted tenant store without a restart.

Every change to the store moves its generation counter (`engage:tenants:generation`,
relay.tenant_store). A `ReloadingRegistry` looks at the counter at most every RELOAD_CHECK_S seconds,
on use (no thread of its own), and when it moved loads the tenants again: a tenant added or changed in
the console is served by every worker, ingest and API process within a few seconds. A name it does not
know makes it read the counter at once (at most every MISS_CHECK_S), so the first event of a tenant
added a moment ago is not refused as unknown. A reload that fails
(Redis down, a stored tenant that no longer reads) keeps the tenants it had and tries again at the next
check; `on_change` hears of each new registry (a worker consumes the new tenant's queues, the rate
limiter learns its budget).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from relay.tenants import Tenant, TenantRegistry

RELOAD_CHECK_S = 2.0
MISS_CHECK_S = 0.2  # an unknown name reads the generation at once, but at most this often

log = logging.getLogger(__name__)


class ReloadingRegistry(TenantRegistry):
    def __init__(
        self,
        load: Callable[[], TenantRegistry],
        generation: Callable[[], int],
        *,
        check_every_s: float = RELOAD_CHECK_S,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[TenantRegistry], None] | None = None,
    ) -> None:
        self._load = load
        self._generation = generation
        self._check_every_s = check_every_s
        self._clock = clock
        self._listeners: list[Callable[[TenantRegistry], None]] = [on_change] if on_change else []
        self._guard = threading.Lock()
        self._seen = self._read_generation()
        self._current = load()
        self._next_check = clock() + check_every_s
        self._next_miss_check = 0.0
        super().__init__([])

    def _read_generation(self) -> int | None:
        try:
            return self._generation()
        except Exception as exc:  # Redis down: keep serving what we have
            log.warning("tenant reload: generation unreadable (%s)", type(exc).__name__)
            return None

    def refresh(self, *, force: bool = False, look_now: bool = False) -> TenantRegistry:
        """The current tenants, reloaded first when the store's generation moved since the last look.
        The generation is read at most every `check_every_s`, at once with `look_now`; `force` reloads
        whatever it says."""
        now = self._clock()
        due = force or look_now or now >= self._next_check
        if not due:
            return self._current
        with self._guard:
            if not (force or look_now) and now < self._next_check:
                return self._current
            self._next_check = now + self._check_every_s
            seen = self._read_generation()
            if seen is None or (seen == self._seen and not force):
                return self._current
            try:
                fresh = self._load()
            except Exception as exc:  # a store that does not read: keep the tenants we had
                log.warning("tenant reload failed, serving the tenants loaded before: %s", exc)
                return self._current
            self._seen, self._current = seen, fresh
        log.info("tenants reloaded: %s", ", ".join(fresh.names()))
        for listener in self._listeners:
            listener(fresh)
        return fresh

    def _knowing(self, name: object) -> TenantRegistry:
        """The tenants, looked up again at once when `name` is not among them (a tenant added a moment
        ago is served by its first event), at most every MISS_CHECK_S."""
        current = self.refresh()
        if name in current:
            return current
        now = self._clock()
        if now < self._next_miss_check:
            return current
        self._next_miss_check = now + MISS_CHECK_S
        return self.refresh(look_now=True)

    def listen(self, on_change: Callable[[TenantRegistry], None]) -> None:
        """Call `on_change` with each newly loaded registry (from the thread that noticed the change)."""
        self._listeners.append(on_change)

    def get(self, name: str) -> Tenant:
        return self._knowing(name).get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._knowing(name)

    def __iter__(self) -> Iterator[Tenant]:
        return iter(self.refresh())

    def __len__(self) -> int:
        return len(self.refresh())

    def names(self) -> list[str]:
        return self.refresh().names()

    def as_mapping(self) -> Mapping[str, Tenant]:
        return self.refresh().as_mapping()
