"""Browser fixtures: Debian's chromium, headless, driven by Playwright (never a downloaded browser).

Screenshots go to tests/integration/console/artifacts/ (git-ignored), one per page a test visits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from console.users import RedisUserStore, new_user
from relay.tenant_reload import RELOAD_CHECK_S
from relay.tenant_store import RedisTenantStore, SecretBox, new_secret_key
from tests.support.processes import free_port, port_open, wait_until
from tests.support.simulator import RunningSimulator
from tests.support.stack import RelayStack

CHROMIUM = Path(os.environ.get("ENGAGE_RELAY_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for the console's tests, closed when they are done: Playwright's sync API keeps an event
    loop running in this thread while it lives, and a later test's `asyncio.run` would refuse to start."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run installs it)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as artifacts/<name>.png (the README's pictures are copied from there)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class ConsoleStack:
    """`engage-relay api` (which serves the console) and, when asked, ingest and a worker, as real child
    processes on a private Redis, against the simulator; no tenants file: `default` comes from the
    environment and stored tenants join it."""

    url: str
    relay: RelayStack
    secret_key: str

    @property
    def redis(self) -> redis.Redis:
        return self.relay.redis

    def tenant_store(self) -> RedisTenantStore:
        return RedisTenantStore(self.redis, SecretBox(self.secret_key))

    def add_user(self, name: str, role: str, tenant: str | None = None) -> None:
        RedisUserStore(self.redis).add(new_user(name, role, PASSWORD, tenant))  # type: ignore[arg-type]

    def wait_served(self) -> None:
        """A tenant stored behind the processes' backs is served after their next look (RELOAD_CHECK_S)."""
        time.sleep(RELOAD_CHECK_S + 0.5)

    def start_relay(self) -> None:
        self.relay.start_ingest()
        self.relay.start_worker(concurrency=4)


PASSWORD = "a long test password"


@pytest.fixture
def console_stack(redis_url: str, simulator: RunningSimulator, tmp_path: Path) -> Iterator[ConsoleStack]:
    secret_key = new_secret_key()
    port = free_port()
    env = {
        "REDIS_URL": redis_url,
        "ENGAGE_BASE_URL": simulator.base_url,
        "ENGAGE_API_KEY": simulator.api_key,
        "ENGAGE_RELAY_DATA_DIR": str(tmp_path / "data"),
        "ENGAGE_RELAY_RETRY_LADDER_S": "1,1,2",
        "ENGAGE_RELAY_SECRET_KEY": secret_key,
        "ENGAGE_RELAY_METRICS_PORT": "0",
    }
    stack = RelayStack(redis_url, tmp_path, env)
    api = stack.start("api", "api", "--port", str(port))
    try:
        wait_until(lambda: port_open(port) or not api.alive(), what=f"engage-relay api on {port}")
        if not api.alive():
            raise RuntimeError(f"engage-relay api died at start:\n{api.log_tail()}")
        yield ConsoleStack(f"http://127.0.0.1:{port}/console", stack, secret_key)
    finally:
        stack.stop()


def log_in(page: Page, stack: ConsoleStack, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{stack.url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_load_state()
