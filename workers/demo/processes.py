"""The demo's child processes: each in its own process group with its log file, stopped as a group.

`Supervisor` starts children, records their process-group ids in a pids file (so a later run can end
what a crashed run left behind, and tests can check nothing survives), and stops them in reverse order:
SIGTERM to the group, then SIGKILL after `STOP_TIMEOUT_S`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT_S = 10.0
READY_POLL_S = 0.1
LOG_TAIL_LINES = 30
REDIS_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/bin")
REDIS_INSTALL_HINT = "sudo apt-get install redis-server"


class DemoStartError(RuntimeError):
    """A child did not become ready; the message names it and shows the tail of its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def port_or_free(preferred: int) -> int:
    """`preferred` when nothing listens on it and it can be bound, else a free port."""
    if port_open(preferred):
        return free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def find_redis_server() -> str | None:
    """`redis-server` on PATH, or in the usual Debian places (sbin is often not on a user's PATH)."""
    found = shutil.which("redis-server")
    if found:
        return found
    for folder in REDIS_SEARCH_DIRS:
        candidate = Path(folder) / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@dataclass
class Child:
    """One started child: its name, process (leader of its own group) and log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stopped: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def log_contains(self, marker: str) -> bool:
        try:
            return marker in self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return False


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the group; False when the group has no process left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # a reused id now owned by someone else: not ours
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies, waiting for a parent to reap them, do not)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return _signal_group(pgid, 0)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def stop_group(pgid: int, popen: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the group, wait up to STOP_TIMEOUT_S for it to go, then SIGKILL what is left."""
    if not _signal_group(pgid, signal.SIGTERM):
        if popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(0)
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if popen is not None and popen.poll() is None:
            time.sleep(READY_POLL_S)
            continue
        if not group_alive(pgid):
            return
        time.sleep(READY_POLL_S)
    _signal_group(pgid, signal.SIGKILL)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(STOP_TIMEOUT_S)


@dataclass
class Supervisor:
    """Starts the demo's children and stops every one of them, whatever happens."""

    logs_dir: Path
    pids_file: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> Child:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.logs_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(  # noqa: S603 - our own fixed commands, no shell
                list(args),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,  # its own process group: Ctrl-C reaches only us; we stop it
            )
        child = Child(name, popen, log_path)
        self.children.append(child)
        self._write_pids()
        return child

    def _write_pids(self) -> None:
        rows = [
            {"name": c.name, "pgid": c.pid, "args": c.popen.args, "stopped": c.stopped} for c in self.children
        ]
        self.pids_file.parent.mkdir(parents=True, exist_ok=True)
        self.pids_file.write_text(json.dumps(rows, default=str, indent=1), encoding="utf-8")

    def wait_ready(self, child: Child, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready():
                return
            if not child.alive():
                raise DemoStartError(
                    f"{child.name} exited with status {child.popen.returncode} before {what}; "
                    f"the end of {child.log_path}:\n{child.log_tail()}"
                )
            time.sleep(READY_POLL_S)
        raise DemoStartError(
            f"{child.name}: no {what} after {timeout_s:.0f} s; "
            f"the end of {child.log_path}:\n{child.log_tail()}"
        )

    def dead(self) -> list[Child]:
        return [c for c in self.children if not c.stopped and not c.alive()]

    def stop_all(self) -> None:
        """Stop every child, last started first; safe to call twice (atexit after a signal).
        The pids file keeps every group, marked stopped, for whoever checks that none survived."""
        for child in reversed(self.children):
            if not child.stopped:
                stop_group(child.pid, child.popen)
                child.stopped = True
        if self.children:
            self._write_pids()


def stop_leftovers(pids_file: Path) -> list[str]:
    """End the groups a previous run recorded and left running (a crash, a kill -9); returns their names.

    A group is ours only when its leader still runs the command line we recorded."""
    try:
        rows = json.loads(pids_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    stopped: list[str] = []
    for row in rows if isinstance(rows, list) else []:
        pgid, args = row.get("pgid"), row.get("args")
        if not isinstance(pgid, int) or not isinstance(args, list) or not group_alive(pgid):
            continue
        try:
            cmdline = Path(f"/proc/{pgid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if [part.decode(errors="replace") for part in cmdline if part] == [str(a) for a in args]:
            stop_group(pgid)
            stopped.append(str(row.get("name")))
    return stopped
