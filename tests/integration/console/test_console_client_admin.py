"""A client admin in real Chromium: sees only its tenant, saves settings, tests the connection with a wrong
key and then the right one; CSRF and another tenant's pages are refused. Screenshots in artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

from fallback.config import FallbackSettings
from relay.tenants import Tenant
from tests.integration.console.conftest import ConsoleStack, log_in, screenshot
from tests.support.simulator import RunningSimulator

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration


def test_a_client_admin_manages_only_its_own_tenant(
    page: Page, console_stack: ConsoleStack, simulator: RunningSimulator
) -> None:
    # Given a stored tenant acme on the simulator's second Engage, beside default, and its client admin
    store = console_stack.tenant_store()
    store.put(
        Tenant(
            name="acme",
            base_url=simulator.base_url,
            api_key=SecretStr(simulator.api_key_2),
            fallback=FallbackSettings(transport="none"),
        )
    )
    console_stack.add_user("anna", "client_admin", tenant="acme")
    console_stack.wait_served()

    # When she logs in, Then she lands on acme's status and the console names no other tenant
    page.goto(f"{console_stack.url}/login")
    screenshot(page, "login")
    log_in(page, console_stack, "anna")
    assert page.url.endswith("/console/t/acme/status")
    assert page.locator("nav.tenants a").all_inner_texts() == ["acme"]
    assert "default" not in page.locator("main").inner_text()
    screenshot(page, "status")

    # And the settings panel never shows the key, only that it is set and when it changed
    page.click("nav.sub >> text=Settings")
    assert simulator.api_key_2 not in page.content()
    assert "set, last changed on" in page.inner_text("form.settings")
    screenshot(page, "settings")

    # When she saves a wrong key and tests the connection, Then the page says the key was refused
    page.fill("input[name=api_key]", "not-the-right-key")
    page.fill("input[name=source]", "POS")
    page.click("#save")
    assert "Settings saved" in page.inner_text("main")
    page.click("#test-connection")
    assert "Engage refused the API key" in page.inner_text("#check-result")
    screenshot(page, "settings-key-refused")
    assert store.get("acme").policy.source == "POS"

    # And with the right key the connection works
    page.fill("input[name=api_key]", simulator.api_key_2)
    page.click("#save")
    page.click("#test-connection")
    assert "Connection works" in page.inner_text("#check-result")
    assert "No file server is configured" in page.inner_text("#file-check-result")
    assert store.get("acme").api_key.get_secret_value() == simulator.api_key_2

    # And another tenant's pages answer 404, whichever page
    for path in ("settings", "status", "failures"):
        answer = page.goto(f"{console_stack.url}/t/default/{path}")
        assert answer is not None and answer.status == 404, path
    assert "Not found" in page.inner_text("h1")

    # And a form posted without its CSRF token (another site's form, with her cookie) is refused
    forged = page.request.post(
        f"{console_stack.url}/t/acme/action", form={"action": "pause"}, max_redirects=0
    )
    assert forged.status == 403
    assert not console_stack.redis.exists("engage:paused:acme")

    # And a silence rule (no order.delivered for a minute, all day) shows on the status page and as a metric
    if not time(0, 2) <= datetime.now(UTC).time() <= time(23, 58):
        pytest.skip("the all-day rule's window would cross midnight")
    page.goto(f"{console_stack.url}/t/acme/status")
    page.fill("input[name=type]", "order.delivered")
    page.fill("input[name=minutes]", "1")
    page.fill("input[name=opens]", "00:00")
    page.fill("input[name=closes]", "23:59")
    page.fill("input[name=timezone]", "UTC")
    page.click("text=Add rule")
    assert "No order.delivered for 1 minute within trading hours" in page.inner_text("#silence-alerts")
    screenshot(page, "status-silence-alert")
    metrics = page.request.get(f"{console_stack.url}/metrics").text()
    assert 'engage_relay_silent{tenant="acme",type="order.delivered"} 1' in metrics

    # And the audit log shows what she did, without a secret
    page.goto(f"{console_stack.url}/audit")
    audit = page.inner_text("main")
    assert "settings saved" in audit and "connection tested" in audit and "API key" in audit
    assert simulator.api_key_2 not in page.content() and "not-the-right-key" not in page.content()
    screenshot(page, "audit")
