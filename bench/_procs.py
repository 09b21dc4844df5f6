"""Processes for the pipeline bench: Redis, the simulator and the relay (ingest + worker), each pinned.

Redis and the simulator share CPU 0; the relay's processes (or the baseline loop) get CPU 1, so the relay
is measured on a core of its own and the simulator's work never counts as the relay's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.support.processes import Proc, entry_point, free_port, port_open, wait_until
from tests.support.simulator import SimAdmin
from tests.support.stack import tenants_toml

ENGAGE_CPU = "0"
RELAY_CPU = "1"
WORKER_READY_TIMEOUT_S = 30.0
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
RETRY_LOG_EVENT = "engage.event.retry"


def pinned(cpu: str, args: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", cpu, *args] if taskset else args


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), after pid and comm
    return (utime + stime) / CLOCK_TICKS_PER_S


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port)]
    args += ["--save", "", "--appendonly", "no", "--dir", str(workdir)]
    proc = Proc(pinned(ENGAGE_CPU, args), workdir / "redis.log")
    try:
        wait_until(lambda: port_open(port), what=f"redis on {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.stop()


@contextlib.contextmanager
def simulator(workdir: Path, api_keys: tuple[str, ...], rate_limit: int) -> Iterator[SimAdmin]:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = ["simulator", "--host", "127.0.0.1", "--port", str(port), "--rate-limit", str(rate_limit)]
    for key in api_keys:
        args += ["--api-key", key]
    proc = Proc(pinned(ENGAGE_CPU, entry_point(*args)), workdir / "simulator.log")
    admin = SimAdmin(f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: admin.healthy() or not proc.alive(), what=f"simulator on {port}")
        if not proc.alive():
            raise RuntimeError(f"simulator exited at start:\n{proc.log_tail()}")
        yield admin
    finally:
        admin.close()
        proc.stop()


@dataclass
class Relay:
    """A running relay: one worker and one ingest process, with the Redis they share."""

    redis_url: str
    worker: Proc
    ingest: Proc
    procs: list[Proc] = field(default_factory=list)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def cpu_seconds(self) -> tuple[float, float]:
        """(worker, ingest) CPU seconds so far."""
        return cpu_seconds(self.worker.pid), cpu_seconds(self.ingest.pid)

    def retries_logged(self) -> int:
        """How many task retries the worker has logged so far."""
        return self.worker.log_path.read_text(errors="replace").count(RETRY_LOG_EVENT)

    def log_tails(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log_tail(20)}" for p in self.procs)


def _wait_ready(proc: Proc) -> None:
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if "ready." in proc.log_path.read_text(errors="replace"):
            return
        if not proc.alive():
            raise RuntimeError(f"worker died at start:\n{proc.log_tail()}")
        time.sleep(0.1)
    raise TimeoutError(f"worker not ready:\n{proc.log_tail()}")


@contextlib.contextmanager
def relay(
    workdir: Path,
    redis_url: str,
    tenants: Mapping[str, Mapping[str, Any]],
    keys_env: Mapping[str, str],
    concurrency: int,
) -> Iterator[Relay]:
    """`engage-relay worker --concurrency N` and `engage-relay ingest`, both pinned to RELAY_CPU.

    The retry ladder is the production one; metrics endpoints are off (no port clashes between runs)."""
    workdir.mkdir(parents=True, exist_ok=True)
    tenants_file = workdir / "tenants.toml"
    tenants_file.write_text(tenants_toml(tenants))
    env = {
        "REDIS_URL": redis_url,
        "ENGAGE_RELAY_TENANTS_FILE": str(tenants_file),
        "ENGAGE_RELAY_DATA_DIR": str(workdir / "data"),
        "ENGAGE_RELAY_WORKER_CONCURRENCY": str(concurrency),
        "ENGAGE_RELAY_METRICS_PORT": "0",
        **keys_env,
    }
    worker_args = ["worker", "--concurrency", str(concurrency), "--hostname", "bench@%h"]
    worker = Proc(pinned(RELAY_CPU, entry_point(*worker_args)), workdir / "worker.log", env=env)
    procs = [worker]
    try:
        _wait_ready(worker)
        ingest = Proc(
            pinned(RELAY_CPU, entry_point("ingest", "--consumer", "bench")), workdir / "ingest.log", env=env
        )
        procs.append(ingest)
        yield Relay(redis_url, worker, ingest, procs)
    finally:
        for proc in reversed(procs):
            proc.stop()
