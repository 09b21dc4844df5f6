"""The relay's own processes for integration tests: `engage-relay ingest` and `engage-relay worker`.

They run as real child processes against a private Redis server and the simulator, with a tenants file
written for the test. Nothing here runs Celery in eager mode.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from relay.outcomes import Outcome, RedisOutcomeSink
from schemas.publish import publish_many
from tests.support.processes import Proc, entry_point

WORKER_READY_TIMEOUT_S = 30.0
TEST_RETRY_LADDER_S = "1,1,2"  # most tests want a short ladder; a test of the defaults passes None


def tenants_toml(tenants: Mapping[str, Mapping[str, Any]]) -> str:
    """A tenants file; each tenant: base_url, api_key_env, and optional policy/fallback tables."""
    lines: list[str] = []
    for name, spec in tenants.items():
        lines.append(f"[tenants.{name}]")
        for key, value in spec.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {json.dumps(value)}")
        for table in ("policy", "fallback"):
            if table in spec:
                lines.append(f"[tenants.{name}.{table}]")
                for key, value in spec[table].items():
                    if isinstance(value, dict):
                        inner = ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items())
                        lines.append(f"{key} = {{ {inner} }}")
                    else:
                        lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    return "\n".join(lines)


@dataclass
class RelayStack:
    redis_url: str
    workdir: Path
    env: dict[str, str]
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def start(self, name: str, *args: str) -> Proc:
        proc = Proc(entry_point(*args), self.workdir / f"{name}.log", env=self.env)
        self.procs[name] = proc
        return proc

    def start_ingest(self, name: str = "ingest") -> Proc:
        return self.start(name, "ingest", "--consumer", name)

    def start_worker(self, name: str = "worker", concurrency: int = 8) -> Proc:
        proc = self.start(name, "worker", "--concurrency", str(concurrency), "--hostname", f"{name}@%h")
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if "ready." in proc.log_path.read_text(errors="replace"):
                return proc
            if not proc.alive():
                raise RuntimeError(f"worker died at start:\n{proc.log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready:\n{proc.log_tail()}")

    def start_beat(self, name: str = "beat") -> Proc:
        """Celery beat (the fallback sweep's schedule), with its schedule file in the work folder."""
        args = ["-m", "celery", "-A", "workers.beat:app", "beat", "--loglevel=INFO"]
        args.append(f"--schedule={self.workdir / 'celerybeat-schedule'}")
        proc = Proc([sys.executable, *args], self.workdir / f"{name}.log", env=self.env)
        self.procs[name] = proc
        return proc

    def publish(self, envelopes: Iterable[Mapping[str, Any] | str | bytes]) -> int:
        client = self.redis
        try:
            return publish_many(client, envelopes)
        finally:
            client.close()

    def outcomes(self) -> list[Outcome]:
        client = self.redis
        try:
            return RedisOutcomeSink(client).read_all()
        finally:
            client.close()

    def final_outcomes(self) -> dict[str, Outcome]:
        """The last outcome per (tenant, event id); 'duplicate' never replaces a real one."""
        final: dict[str, Outcome] = {}
        for outcome in self.outcomes():
            key = f"{outcome.tenant}:{outcome.event_id}"
            if outcome.outcome == "duplicate" and key in final:
                continue
            final[key] = outcome
        return final

    def wait_for_outcomes(self, event_keys: Iterable[str], timeout_s: float = 60.0) -> dict[str, Outcome]:
        wanted = set(event_keys)
        deadline = time.monotonic() + timeout_s
        final: dict[str, Outcome] = {}
        while time.monotonic() < deadline:
            final = self.final_outcomes()
            if wanted <= set(final):
                return final
            time.sleep(0.2)
        missing = sorted(wanted - set(final))
        logs = "\n".join(f"--- {n}\n{p.log_tail(30)}" for n, p in self.procs.items())
        raise TimeoutError(f"{len(missing)} events without outcome, e.g. {missing[:5]}\n{logs}")

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.stop()


@contextmanager
def relay_stack(
    redis_url: str,
    workdir: Path,
    tenants: Mapping[str, Mapping[str, Any]],
    extra_env: Mapping[str, str] | None = None,
    *,
    retry_ladder_s: str | None = TEST_RETRY_LADDER_S,
) -> Iterator[RelayStack]:
    """The stack's environment; `retry_ladder_s=None` leaves the shipped ladder (10 s, 30 s, ...)."""
    workdir.mkdir(parents=True, exist_ok=True)
    tenants_file = workdir / "tenants.toml"
    tenants_file.write_text(tenants_toml(tenants))
    env = {
        "REDIS_URL": redis_url,
        "ENGAGE_RELAY_TENANTS_FILE": str(tenants_file),
        "ENGAGE_RELAY_DATA_DIR": str(workdir / "data"),
        **({"ENGAGE_RELAY_RETRY_LADDER_S": retry_ladder_s} if retry_ladder_s is not None else {}),
        **(extra_env or {}),
    }
    stack = RelayStack(redis_url, workdir, env)
    try:
        yield stack
    finally:
        stack.stop()
