"""The real Engage simulator as a subprocess on a free port, and a small client for its admin API.

`start_simulator(workdir, ...)` starts `engage-relay simulator` and waits until it answers;
`SimAdmin` wraps `/_sim/state`, `/_sim/faults`, `/_sim/switches`, `/_sim/reset` and `/_sim/seed`.
Each API key is its own Engage: `RunningSimulator.admin_for(key)` reads and seeds that key's (`.admin`
reads every key's together and seeds the default key's), and `import_dir_for(key)` is the folder
whose files it imports for that key.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from simulator.tenancy import tenant_folder
from tests.support.processes import Proc, entry_point, free_port, wait_until

ADMIN_TIMEOUT_S = 5.0
DEFAULT_TEST_KEYS = ("test-key-1", "test-key-2")


class SimAdmin:
    """The simulator's `/_sim/*` routes (never subject to faults), for one key's Engage; without a key,
    the whole simulator (state: every key's together; reset: everything; seed: the default key's).
    Faults and switches are global."""

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        self.base_url = base_url
        self._session = requests.Session()
        if api_key is not None:
            self._session.headers["apikey"] = api_key

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._session.request(
            method, f"{self.base_url}/_sim/{path}", json=body, timeout=ADMIN_TIMEOUT_S
        )
        response.raise_for_status()
        return response.json()

    def healthy(self) -> bool:
        try:
            return bool(self._session.get(f"{self.base_url}/_sim/health", timeout=0.5).ok)
        except requests.RequestException:
            return False

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "state")
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "faults")
        return result

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "faults", changes)
        return result

    def switches(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "switches")
        return result

    def set_switches(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "switches", changes)
        return result

    def reset(self) -> None:
        """Without a key every Engage, faults and switches; with one, that key's Engage."""
        self._call("POST", "reset")

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "seed", data)
        return result

    def request_count(self, route: str, status: int | None = None) -> int:
        """How many answers `route` ("METHOD /path/template") gave, optionally with one status."""
        counts: dict[str, int] = self.state()["requests"].get(route, {})
        return counts.get(str(status), 0) if status is not None else sum(counts.values())

    def close(self) -> None:
        self._session.close()


@dataclass
class RunningSimulator:
    """A started simulator: its process, URL, API keys, import folder and admin client."""

    proc: Proc
    base_url: str
    api_keys: tuple[str, ...]
    import_dir: Path
    admin: SimAdmin

    @property
    def api_key(self) -> str:
        return self.api_keys[0]

    @property
    def api_key_2(self) -> str:
        return self.api_keys[1]

    def admin_for(self, api_key: str) -> SimAdmin:
        """The admin API of `api_key`'s Engage; close it after use."""
        return SimAdmin(self.base_url, api_key)

    def import_dir_for(self, api_key: str) -> Path:
        """The folder whose files the simulator imports for `api_key` (created here)."""
        folder = self.import_dir / tenant_folder(api_key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


@contextlib.contextmanager
def start_simulator(
    workdir: Path,
    api_keys: Sequence[str] = DEFAULT_TEST_KEYS,
    rate_limit: int = 200,
    seed: dict[str, Any] | None = None,
) -> Iterator[RunningSimulator]:
    """Start the simulator in `workdir` (log, import folder, seed file); stop it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    import_dir = workdir / "import"
    import_dir.mkdir(exist_ok=True)
    port = free_port()
    args = ["simulator", "--host", "127.0.0.1", "--port", str(port), "--rate-limit", str(rate_limit)]
    args += ["--import-dir", str(import_dir)]
    for key in api_keys:
        args += ["--api-key", key]
    if seed is not None:
        seed_path = workdir / "seed.json"
        seed_path.write_text(json.dumps(seed), encoding="utf-8")
        args += ["--seed", str(seed_path)]
    proc = Proc(entry_point(*args), workdir / "simulator.log")
    base_url = f"http://127.0.0.1:{port}"
    admin = SimAdmin(base_url)
    try:
        try:
            wait_until(lambda: admin.healthy() or not proc.alive(), what=f"simulator on {port}")
        except TimeoutError as exc:
            raise RuntimeError(f"simulator did not start:\n{proc.log_tail()}") from exc
        if not proc.alive():
            raise RuntimeError(f"simulator exited at start:\n{proc.log_tail()}")
        yield RunningSimulator(proc, base_url, tuple(api_keys), import_dir, admin)
    finally:
        admin.close()
        proc.stop()


class SimHttp:
    """A plain `requests` session against the simulator's Engage routes, with the test API key."""

    USER_AGENT = "engage-relay-tests/1"

    def __init__(self, base_url: str, api_key: str | None, timeout_s: float = 5.0) -> None:
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.USER_AGENT
        if api_key is not None:
            self.session.headers["apikey"] = api_key

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout_s)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, f"{self.base_url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()
