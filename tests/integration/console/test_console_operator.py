"""An operator in real Chromium, with real ingest and worker processes and the simulator: a tenant added
in the console receives events without a restart; a dead letter replayed from the page is applied in
Engage; drop asks for confirmation; personal fields stay masked until revealed (and the reveal is
audited); pause and resume hold and release a tenant. Screenshots in artifacts/."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from fallback.deadletters import DeadLetter, RedisDeadLetterStore
from tests.integration.console.conftest import ConsoleStack, log_in, screenshot
from tests.support.dead_letters import envelope
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.integration


def contacts_emails(simulator: RunningSimulator, api_key: str) -> str:
    admin = simulator.admin_for(api_key)
    try:
        return json.dumps(admin.state().get("contacts", {}))
    finally:
        admin.close()


def customer(event_id: str, tenant: str, email: str) -> dict[str, Any]:
    return envelope("customer.created", event_id, tenant, email=email, mobile_phone=None)


def test_a_tenant_added_in_the_console_receives_events_without_a_restart(
    page: Page, console_stack: ConsoleStack, simulator: RunningSimulator
) -> None:
    # Given the relay running (ingest, a worker) with only the default tenant, and an operator
    console_stack.add_user("ops", "operator")
    console_stack.start_relay()
    log_in(page, console_stack, "ops")
    screenshot(page, "tenants")

    # When the operator adds tenant newco in the console, on the simulator's second Engage
    page.click("text=+ tenant")
    page.fill("input[name=name]", "newco")
    page.fill("input[name=base_url]", simulator.base_url)
    page.fill("input[name=api_key]", simulator.api_key_2)
    page.select_option("select[name=transport]", "none")
    screenshot(page, "tenant-new")
    page.click("#save")
    assert page.url.endswith("/console/t/newco/settings?saved=1")
    assert "default" in page.locator("nav.tenants a").all_inner_texts()  # adding one removed no other

    # Then an event for newco, published right away, is applied in newco's Engage by the running processes
    console_stack.relay.publish([customer("evt-newco-1", "newco", "new.customer@example.se")])
    console_stack.relay.publish([customer("evt-default-1", "default", "old.customer@example.se")])
    outcomes = console_stack.relay.wait_for_outcomes(["newco:evt-newco-1", "default:evt-default-1"], 30)
    assert outcomes["newco:evt-newco-1"].outcome == "applied", outcomes["newco:evt-newco-1"]
    assert outcomes["default:evt-default-1"].outcome == "applied"
    assert "new.customer@example.se" in contacts_emails(simulator, simulator.api_key_2)
    assert "new.customer@example.se" not in contacts_emails(simulator, simulator.api_key)

    # And its status page shows the outcome and refreshes by itself
    page.goto(f"{console_stack.url}/t/newco/status")
    wait_until(lambda: "applied" in page.inner_text("#panel"), timeout_s=15, what="status refreshed")
    screenshot(page, "status-newco")
    page.goto(f"{console_stack.url}/t/newco/events?id=evt-newco-1")
    assert "applied" in page.inner_text("main")
    screenshot(page, "event-lookup")


def test_an_operator_replays_and_drops_dead_letters_from_the_page(
    page: Page, console_stack: ConsoleStack, simulator: RunningSimulator
) -> None:
    # Given two dead letters of default (its key was refused then) and one identity conflict
    letters = RedisDeadLetterStore(console_stack.redis)
    for n, email in ((1, "replay.me@example.se"), (2, "drop.me@example.se")):
        letters.add(
            DeadLetter(
                event_id=f"evt-dead-{n}",
                tenant="default",
                type="customer.created",
                envelope=customer(f"evt-dead-{n}", "default", email),
                error_class="AuthenticationFailed",
                error_kind="systemic",
                engage_status=401,
                message="Engage refused the API key",
                attempts=4,
                fallback_state="not_applicable",
            )
        )
    letters.add(
        DeadLetter(
            event_id="evt-identity",
            tenant="default",
            type="customer.updated",
            envelope=envelope("customer.updated", "evt-identity", "default"),
            error_class="IdentityConflict",
            error_kind="permanent",
            message="identity conflict",
            details={
                "contact_by_key": "c-111",
                "contact_by_other": "c-222",
                "other_identifier": "mobile_phone",
            },
        )
    )
    console_stack.add_user("ops", "operator")
    console_stack.start_relay()
    log_in(page, console_stack, "ops")

    # When the operator opens what went wrong, Then the letters are grouped by cause with counts
    page.goto(f"{console_stack.url}/t/default/failures")
    body = page.inner_text("main")
    assert "API key refused 2" in body.replace("\n", " ")
    assert "Identity conflict (two contacts) 1" in body.replace("\n", " ")
    screenshot(page, "failures")

    # And a letter's personal fields are masked until revealed, and the reveal is audited
    page.click("text=evt-dead-1")
    assert "replay.me@example.se" not in page.inner_text("#envelope")
    assert "•••••" in page.inner_text("#envelope")
    screenshot(page, "dead-letter-masked")
    page.click("#reveal")
    assert "replay.me@example.se" in page.inner_text("#envelope")
    page.goto(f"{console_stack.url}/t/default/failures/evt-identity")
    assert "c-111 and c-222" in page.inner_text("dl.facts")

    # When it is replayed from the page, the preview says what will be sent, and the simulator has it
    page.goto(f"{console_stack.url}/t/default/failures/evt-dead-1")
    page.click("#replay-one")
    assert "will be sent again (backlog lane)" in page.inner_text("main")
    screenshot(page, "replay-preview")
    page.click("#confirm-replay")
    assert "Replayed 1 event(s)" in page.inner_text("#done")
    outcome = console_stack.relay.wait_for_outcomes(["default:evt-dead-1"], 30)["default:evt-dead-1"]
    assert outcome.outcome == "applied"
    assert "replay.me@example.se" in contacts_emails(simulator, simulator.api_key)
    assert letters.get("default:evt-dead-1") is None

    # And drop asks for confirmation: without the box ticked nothing is dropped
    page.goto(f"{console_stack.url}/t/default/failures/evt-dead-2")
    page.click("#drop-one")
    assert "cannot be undone" in page.inner_text("main")
    screenshot(page, "drop-confirm")
    page.click("#confirm-drop")  # the browser refuses to send the form: the box is required
    time.sleep(0.5)
    assert letters.get("default:evt-dead-2") is not None
    page.check("#confirm-box")
    page.click("#confirm-drop")
    assert "Dropped 1 dead letter(s)" in page.inner_text("#done")
    assert letters.get("default:evt-dead-2") is None
    assert "drop.me@example.se" not in contacts_emails(simulator, simulator.api_key)

    # And pausing holds the tenant's events until it is resumed
    page.goto(f"{console_stack.url}/t/default/status")
    page.click("#pause")
    assert "Paused" in page.inner_text("#done")
    console_stack.relay.publish([customer("evt-held", "default", "held@example.se")])
    time.sleep(3)
    assert "default:evt-held" not in console_stack.relay.final_outcomes()
    screenshot(page, "status-paused")
    page.click("#resume")
    held = console_stack.relay.wait_for_outcomes(["default:evt-held"], 30)["default:evt-held"]
    assert held.outcome == "applied"

    # And the audit log tells who replayed, dropped, revealed and paused, and how many events
    page.goto(f"{console_stack.url}/audit")
    audit = page.inner_text("main")
    for action in ("replayed", "dropped", "revealed", "paused", "resumed"):
        assert action in audit, action
    assert "replay.me@example.se" not in audit
    screenshot(page, "audit-operator")
