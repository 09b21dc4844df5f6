"""Bring up the demo stack under one local folder: Redis (unless REDIS_URL is set), the simulator, a
local FTP drop, ingest, a worker, beat, Flower and the HTTP service with the browser console, each a child
process with its log in `<root>/logs/`. The console gets one operator, `demo`, with a password made up
for this run (printed once with the other addresses).

Layout of the folder (default `.var/demo/`): `redis/` (AOF data), `logs/`, `sim-import/` (the simulator's
watched folder, also the FTP drop's root), `data/` (the relay's data dir: outboxes), `tenants.toml`,
`sim-seed.json`, `celerybeat-schedule`, `pids` (the children's process groups), `summary.json`.

Each demo tenant has its own API key, so its own Engage in the simulator, and uploads its files into
that Engage's import folder on the FTP drop (`sim-import/tenants/<key id>/`, made here; the uploader
makes the sub-folders). The outage tenant spills after `DEMO_SPILL_AFTER_S`, so the demo can show an
event going from an outage to a file to Engage in seconds; the default is ten minutes.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests

from console.users import RedisUserStore, new_user
from relay.breaker import BreakerPolicy, RedisCircuitBreaker
from relay.state import TenantState, read_tenants
from relay.tenant_store import new_secret_key
from relay.tenants import Tenant
from relay.tenants_file import load_tenants_file
from simulator.tenancy import tenant_folder
from workers.demo import data as demo_data
from workers.demo.ftp import PASSWORD_ENV, PORT_ENV, ROOT_ENV, USER_ENV
from workers.demo.processes import (
    REDIS_INSTALL_HINT,
    DemoStartError,
    Supervisor,
    find_redis_server,
    port_open,
    port_or_free,
)

DEMO_REDIS_PORT = 6390
DEMO_SIMULATOR_PORT = 8080
DEMO_FLOWER_PORT = 5555
DEMO_API_PORT = 8000
CONSOLE_USER = "demo"
DEMO_API_TOKEN_NAME = "demo-shop"  # noqa: S105 - the token's name, not a secret
DEMO_WORKER_METRICS_PORT = 9808
DEMO_INGEST_METRICS_PORT = 9809
DEMO_WORKER_CONCURRENCY = 8
# short, so a failing event reaches the dead letters within the demo's wait, and long enough for the
# outage scene's probes (each failed probe is a ladder step)
DEMO_RETRY_LADDER_S = "1,2,5,10,20,30"
DEMO_BREAKER_OPEN_S = "5"  # a probe 5 s after the breaker opens (30 s by default): the hold drains soon
DEMO_SPILL_AFTER_S = 2.0  # the outage tenant's spill_after_s (default 600 s: files are for long outages)
DEMO_RATE_LIMIT_PER_S = 200
FLOWER_USER = "demo"
FTP_USER = "demo"
DEMO_MARKER_KEY = "engage:demo:owned"  # set in a Redis the demo may wipe on its next run
START_TIMEOUT_S = 30.0
WORKER_START_TIMEOUT_S = 60.0
HEALTH_TIMEOUT_S = 0.5
TENANT_KEY_ENV = {
    demo_data.ECOM_TENANT: "DEMO_ACME_SE_API_KEY",
    demo_data.POS_TENANT: "DEMO_NORDIC_NO_API_KEY",
}
FTP_PASSWORD_ENV_FOR_TENANTS = "DEMO_FTP_PASSWORD"  # noqa: S105 - a variable's name
DROPPED_ENV = ("ENGAGE_RELAY_SECRET_KEY", "ENGAGE_RELAY_TENANTS_FILE")  # the demo brings its own tenants


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def sim_import(self) -> Path:
        return self.root / "sim-import"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def tenants_file(self) -> Path:
        return self.root / "tenants.toml"

    @property
    def seed_file(self) -> Path:
        return self.root / "sim-seed.json"

    @property
    def beat_schedule(self) -> Path:
        return self.root / "celerybeat-schedule"

    @property
    def pids_file(self) -> Path:
        return self.root / "pids"

    @property
    def summary_file(self) -> Path:
        return self.root / "summary.json"

    @property
    def env_file(self) -> Path:
        """REDIS_URL, the tenants file and the demo keys, for `engage-relay status` (mode 0600)."""
        return self.root / "env"

    def create(self) -> None:
        for folder in (self.logs, self.redis_dir, self.sim_import, self.data):
            folder.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class DemoStack:
    """Where everything listens once the stack is up. The Flower login is the only secret shown."""

    paths: DemoPaths
    redis_url: str
    own_redis: bool
    simulator_url: str
    flower_url: str
    flower_login: str
    console_url: str
    console_login: str
    ftp_port: int
    worker_metrics_url: str
    ingest_metrics_url: str
    tenants: dict[str, Tenant]  # the demo's tenants, as every relay process loads them
    import_folders: dict[str, str]  # tenant -> its Engage's import folder, relative to `sim-import/`
    breaker_open_s: float  # the relay processes' (ENGAGE_RELAY_BREAKER_OPEN_S)
    api_url: str = ""  # the HTTP service (`engage-relay api`)
    api_token: str = ""  # a token for the e-com tenant, made for this run (shown, like the Flower login)


def relay_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli", *args]


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.beat:app", *args]


def tenants_toml(simulator_url: str, ftp_port: int, outbox: Path, remote_dirs: dict[str, str]) -> str:
    """The demo tenants file: two tenants on the one simulator, each uploading its files into its own
    Engage's folder on the FTP drop (`remote_dirs`); the outage tenant spills after a few seconds."""
    lines: list[str] = []
    for name, policy in demo_data.tenant_policies().items():
        spill = (
            [f"spill_after_s = {DEMO_SPILL_AFTER_S}  # the demo's outage; by default 600"]
            if name == demo_data.OUTAGE_TENANT
            else []
        )
        lines += [
            f"[tenants.{name}]",
            f"base_url = {json.dumps(simulator_url)}",
            f"api_key_env = {json.dumps(TENANT_KEY_ENV[name])}",
            "rate_budget_per_s = 40",
            f"[tenants.{name}.policy]",
            *(f"{key} = {json.dumps(value)}" for key, value in policy.items()),
            f"[tenants.{name}.fallback]",
            'transport = "ftp"',
            'host = "127.0.0.1"',
            f"port = {ftp_port}",
            f"username = {json.dumps(FTP_USER)}",
            f"password_env = {json.dumps(FTP_PASSWORD_ENV_FOR_TENANTS)}",
            f"remote_dir = {json.dumps(remote_dirs[name])}",
            f"local_dir = {json.dumps(str(outbox / name))}",
            *spill,
            "",
        ]
    return "\n".join(lines)


def _prepare_given_redis(redis_url: str) -> None:
    """A Redis the user pointed us at: wiped only when empty or marked as the demo's own."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
        if client.dbsize() and not client.exists(DEMO_MARKER_KEY):
            raise DemoStartError(
                "REDIS_URL points at a Redis database that holds data the demo did not write; the demo "
                "starts from an empty database: point REDIS_URL at an empty one (e.g. .../15) or unset it"
            )
        client.flushdb()
        client.set(DEMO_MARKER_KEY, "1")
    except redis.RedisError as exc:
        raise DemoStartError(f"REDIS_URL is set but Redis does not answer ({type(exc).__name__})") from None
    finally:
        client.close()


def _start_redis(sup: Supervisor, paths: DemoPaths, environ: Mapping[str, str]) -> str:
    binary = find_redis_server()
    if binary is None:
        raise DemoStartError(
            f"redis-server is not installed: `{REDIS_INSTALL_HINT}` (or set REDIS_URL to a Redis you run)"
        )
    port = port_or_free(DEMO_REDIS_PORT)
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(paths.redis_dir)]
    args += ["--appendonly", "yes", "--save", "", "--protected-mode", "yes"]
    child = sup.start("redis", args, environ)
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        client = redis.Redis.from_url(url, socket_timeout=HEALTH_TIMEOUT_S)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    sup.wait_ready(child, answers, START_TIMEOUT_S, f"Redis answering on port {port}")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()  # every run starts clean (the simulator starts empty too); the AOF stays for a look
        client.set(DEMO_MARKER_KEY, "1")
    finally:
        client.close()
    return url


def _http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=HEALTH_TIMEOUT_S).status_code < 500
    except requests.RequestException:
        return False


def start_stack(sup: Supervisor, paths: DemoPaths, environ: Mapping[str, str]) -> DemoStack:
    """Start every process and wait until each is ready; raises DemoStartError naming the one that is not."""
    paths.create()
    given_redis = environ.get("REDIS_URL")
    if given_redis:
        _prepare_given_redis(given_redis)
        redis_url = given_redis
    else:
        redis_url = _start_redis(sup, paths, environ)

    keys = {name: secrets.token_urlsafe(18) for name in TENANT_KEY_ENV.values()}
    ftp_password = secrets.token_urlsafe(12)
    flower_password = secrets.token_urlsafe(12)
    console_password = secrets.token_urlsafe(12)
    base_env: dict[str, str] = {k: v for k, v in environ.items() if k not in DROPPED_ENV}
    base_env["PYTHONUNBUFFERED"] = "1"

    sim_port = port_or_free(DEMO_SIMULATOR_PORT)
    simulator_url = f"http://127.0.0.1:{sim_port}"
    paths.seed_file.write_text(json.dumps(demo_data.simulator_seed(), indent=1), encoding="utf-8")
    sim_args = ["simulator", "--host", "127.0.0.1", "--port", str(sim_port)]
    sim_args += ["--rate-limit", str(DEMO_RATE_LIMIT_PER_S), "--import-dir", str(paths.sim_import)]
    sim_args += ["--seed", str(paths.seed_file)]
    sim = sup.start(
        "simulator", relay_command(*sim_args), {**base_env, "SIM_API_KEYS": " ".join(keys.values())}
    )
    sup.wait_ready(sim, lambda: _http_ok(f"{simulator_url}/_sim/health"), START_TIMEOUT_S, "health answer")

    folders = {
        tenant: str(tenant_folder(keys[variable])) for tenant, variable in TENANT_KEY_ENV.items()
    }  # each tenant's own Engage's import folder: the remote_dir of its uploads (which must exist)
    for folder in folders.values():
        (paths.sim_import / folder).mkdir(parents=True, exist_ok=True)
    ftp_port = port_or_free(2121)
    ftp_env = {USER_ENV: FTP_USER, PASSWORD_ENV: ftp_password, PORT_ENV: str(ftp_port)}
    ftp = sup.start(
        "ftp",
        [sys.executable, "-m", "workers.demo.ftp"],
        {**base_env, **ftp_env, ROOT_ENV: str(paths.sim_import)},
    )
    sup.wait_ready(ftp, lambda: port_open(ftp_port), START_TIMEOUT_S, f"FTP on port {ftp_port}")

    paths.tenants_file.write_text(
        tenants_toml(
            simulator_url, ftp_port, paths.data / "outbox", {t: f"/{f}" for t, f in folders.items()}
        ),
        encoding="utf-8",
    )
    relay_env = {
        **base_env,
        **keys,
        FTP_PASSWORD_ENV_FOR_TENANTS: ftp_password,
        "REDIS_URL": redis_url,
        "ENGAGE_RELAY_TENANTS_FILE": str(paths.tenants_file),
        "ENGAGE_RELAY_DATA_DIR": str(paths.data),
        "ENGAGE_RELAY_RETRY_LADDER_S": environ.get("ENGAGE_RELAY_RETRY_LADDER_S", DEMO_RETRY_LADDER_S),
        "ENGAGE_RELAY_BREAKER_OPEN_S": environ.get("ENGAGE_RELAY_BREAKER_OPEN_S", DEMO_BREAKER_OPEN_S),
        # a key of the demo's own: tenants added in the console are sealed with it, sessions signed from it
        "ENGAGE_RELAY_SECRET_KEY": new_secret_key(),
    }
    write_env_file(
        paths.env_file,
        {
            k: relay_env[k]
            for k in [
                *keys,
                FTP_PASSWORD_ENV_FOR_TENANTS,
                "REDIS_URL",
                "ENGAGE_RELAY_TENANTS_FILE",
                "ENGAGE_RELAY_SECRET_KEY",
            ]
        },
    )
    worker_metrics = port_or_free(DEMO_WORKER_METRICS_PORT)
    worker = sup.start(
        "worker",
        relay_command("worker", "--concurrency", str(DEMO_WORKER_CONCURRENCY), "--hostname", "demo@%h"),
        {**relay_env, "ENGAGE_RELAY_METRICS_PORT": str(worker_metrics)},
    )
    ingest_metrics = port_or_free(DEMO_INGEST_METRICS_PORT)
    ingest = sup.start(
        "ingest",
        relay_command("ingest", "--consumer", "demo-ingest"),
        {**relay_env, "ENGAGE_RELAY_METRICS_PORT": str(ingest_metrics)},
    )
    beat = sup.start(
        "beat", celery_command("beat", "--loglevel=INFO", f"--schedule={paths.beat_schedule}"), relay_env
    )
    flower_port = port_or_free(DEMO_FLOWER_PORT)
    flower_env = {
        **relay_env,
        "FLOWER_BASIC_AUTH": f"{FLOWER_USER}:{flower_password}",
        "FLOWER_ADDRESS": "127.0.0.1",
        "FLOWER_PORT": str(flower_port),
    }
    flower = sup.start("flower", celery_command("flower", f"--conf={flower_config()}"), flower_env)
    api_port = port_or_free(DEMO_API_PORT)
    api = sup.start("api", relay_command("api", "--host", "127.0.0.1", "--port", str(api_port)), relay_env)

    add_console_user(redis_url, console_password)

    sup.wait_ready(worker, lambda: worker.log_contains("ready."), WORKER_START_TIMEOUT_S, "'ready.' line")
    sup.wait_ready(ingest, lambda: ingest.log_contains("ingest.started"), START_TIMEOUT_S, "'ingest.started'")
    sup.wait_ready(beat, lambda: beat.log_contains("beat: Starting"), START_TIMEOUT_S, "'beat: Starting'")
    flower_url = f"http://127.0.0.1:{flower_port}"
    sup.wait_ready(flower, lambda: _http_ok(f"{flower_url}/healthcheck"), START_TIMEOUT_S, "an HTTP answer")
    api_url = f"http://127.0.0.1:{api_port}"
    sup.wait_ready(api, lambda: _http_ok(f"{api_url}/healthz"), START_TIMEOUT_S, "an HTTP answer")
    return DemoStack(
        paths=paths,
        redis_url=redis_url,
        own_redis=not given_redis,
        simulator_url=simulator_url,
        flower_url=flower_url,
        flower_login=f"{FLOWER_USER} / {flower_password}",
        console_url=f"{api_url}/console/",
        console_login=f"{CONSOLE_USER} / {console_password}",
        ftp_port=ftp_port,
        worker_metrics_url=f"http://127.0.0.1:{worker_metrics}/metrics",
        ingest_metrics_url=f"http://127.0.0.1:{ingest_metrics}/metrics",
        tenants={t.name: t for t in load_tenants_file(paths.tenants_file, relay_env)},
        import_folders=folders,
        breaker_open_s=float(relay_env["ENGAGE_RELAY_BREAKER_OPEN_S"]),
        api_url=api_url,
        api_token=demo_api_token(redis_url),
    )


def add_console_user(redis_url: str, password: str) -> None:
    """The console's operator for this run (the demo's Redis starts empty every run)."""
    client = redis.Redis.from_url(redis_url)
    try:
        RedisUserStore(client).add(new_user(CONSOLE_USER, "operator", password))
    finally:
        client.close()


def demo_api_token(redis_url: str) -> str:
    """A fresh token for the e-com tenant (the previous run's demo tokens are revoked)."""
    from api.tokens import ApiTokens, RedisTokenStore

    client = redis.Redis.from_url(redis_url)
    try:
        tokens = ApiTokens(RedisTokenStore(client))
        for info in tokens.list(tenant=demo_data.ECOM_TENANT):
            if info.name == DEMO_API_TOKEN_NAME and not info.revoked:
                tokens.revoke(info.token_id)
        return tokens.create_for_tenant(DEMO_API_TOKEN_NAME, demo_data.ECOM_TENANT).raw
    finally:
        client.close()


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """A shell-sourceable file only the user can read: the operator commands need the demo's settings."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.writelines(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


def flower_config() -> Path:
    path = Path(__file__).resolve().parents[2] / "ops" / "flower" / "flowerconfig.py"
    if not path.is_file():
        raise DemoStartError(f"{path} is missing: run the demo from a clone of the repository")
    return path


def simulator_state(stack: DemoStack) -> dict[str, Any]:
    response = requests.get(f"{stack.simulator_url}/_sim/state", timeout=5)
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state


def set_outage(stack: DemoStack, down: bool) -> None:
    """Switch the simulator's outage on (every Engage call answers 503) or off."""
    response = requests.put(f"{stack.simulator_url}/_sim/faults", json={"outage": down}, timeout=5)
    response.raise_for_status()


def imports_of(state: dict[str, Any], folder: str) -> list[dict[str, Any]]:
    """The simulator's import-log entries of files found under `folder` (one tenant's Engage)."""
    entries: list[dict[str, Any]] = state.get("imports", [])
    return [e for e in entries if str(e.get("folder", "")).startswith(folder)]


def tenant_state(stack: DemoStack, client: redis.Redis, tenant: str) -> TenantState:
    """What `engage-relay status` shows for the tenant (the cheap part), with the stack's breaker policy."""
    breaker = RedisCircuitBreaker(client, BreakerPolicy(open_s=stack.breaker_open_s))
    (state,) = read_tenants(client, [stack.tenants[tenant]], breaker_info=breaker.info)
    return state
