"""`engage-relay console` serves the pages alone (no HTTP API), on the same settings as every process."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.processes import Proc, entry_point, free_port, port_open, wait_until

pytestmark = pytest.mark.integration


def test_the_console_command_serves_the_log_in_page(redis_url: str, tmp_path: Path) -> None:
    port = free_port()
    proc = Proc(
        entry_point("console", "--port", str(port)),
        tmp_path / "console.log",
        env={"REDIS_URL": redis_url, "ENGAGE_RELAY_CONSOLE_SESSION_KEY": "k" * 32},
    )
    try:
        wait_until(lambda: port_open(port) or not proc.alive(), what=f"console on {port}")
        assert proc.alive(), proc.log_tail()
        page = requests.get(f"http://127.0.0.1:{port}/console/login", timeout=5)
        assert page.status_code == 200 and "Log in" in page.text
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=5, allow_redirects=False)
        assert home.status_code == 307 and home.headers["location"] == "/console/"
        login = requests.get(f"http://127.0.0.1:{port}/console/", timeout=5, allow_redirects=False)
        assert login.status_code == 303 and login.headers["location"].startswith("/console/login")
    finally:
        proc.stop()
