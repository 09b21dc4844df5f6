"""A realistic e-commerce day and a POS day through the real processes, two tenants on one simulator.

Each tenant has its own API key, so its own Engage (the simulator keeps one per key, as Voyado does per
tenant). Asserts each Engage's final state exactly, and the Engage calls each event cost.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.integration.pipeline.days import (
    ANNA,
    ECOM_TENANT,
    KARIN_ID,
    KARIN_VOUCHER_ID,
    POS_TENANT,
    WELCOME_PROMOTION,
    ecom_day,
    event_keys,
    pos_day,
    pos_seed,
)
from tests.support.simulator import RunningSimulator, SimAdmin
from tests.support.stack import RelayStack, relay_stack

pytestmark = pytest.mark.integration


@pytest.fixture
def pos_engage(simulator: RunningSimulator) -> Iterator[SimAdmin]:
    """The POS tenant's Engage: the simulator's second key, seeded with the POS day's members."""
    admin = simulator.admin_for(simulator.api_key_2)
    admin.seed(pos_seed())
    yield admin
    admin.close()


@pytest.fixture
def ecom_engage(simulator: RunningSimulator) -> Iterator[SimAdmin]:
    """The e-com tenant's Engage: the simulator's first key."""
    admin = simulator.admin_for(simulator.api_key)
    yield admin
    admin.close()


@pytest.fixture
def days_stack(
    redis_url: str, simulator: RunningSimulator, pos_engage: SimAdmin, tmp_path: Path
) -> Iterator[RelayStack]:
    tenants = {
        ECOM_TENANT: {
            "base_url": simulator.base_url,
            "api_key_env": "ACME_KEY",
            "policy": {"source": "ECOM", "default_store": "online-se", "group_currency": "SEK"},
        },
        POS_TENANT: {
            "base_url": simulator.base_url,
            "api_key_env": "NORDIC_KEY",
            "policy": {
                "source": "POS",
                "default_store": "store-001",
                "contact_key": "member_number",
                "group_currency": "SEK",
                "include_freight": True,
            },
        },
    }
    env = {"ACME_KEY": simulator.api_key, "NORDIC_KEY": simulator.api_key_2}
    with relay_stack(redis_url, tmp_path / "relay", tenants, env) as stack:
        stack.start_worker()
        stack.start_ingest()
        yield stack


def settled_state(admin: SimAdmin, timeout_s: float = 5.0) -> dict[str, Any]:
    """An Engage's state once its asynchronous order jobs are done (Engage applies orders a moment
    after accepting them; an outcome only says the order was accepted)."""
    deadline = time.monotonic() + timeout_s
    state = admin.state()
    while any(job["status"] == "Pending" for job in state["order_jobs"]) and time.monotonic() < deadline:
        time.sleep(0.05)
        state = admin.state()
    return state


def run_waves(stack: RelayStack, waves: list[list[dict[str, Any]]]) -> None:
    for wave in waves:
        stack.publish(wave)
        stack.wait_for_outcomes(event_keys([wave]))


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def receipts_by_id(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["uniqueReceiptId"]: r for r in state["receipts"]}


def test_an_ecom_and_a_pos_day_reach_each_tenants_engage_exactly(
    days_stack: RelayStack, ecom_engage: SimAdmin, pos_engage: SimAdmin
) -> None:
    # When both tenants' days are published, wave after wave, interleaved
    ecom, pos = ecom_day(), pos_day()
    for ecom_wave, pos_wave in itertools.zip_longest(ecom, pos, fillvalue=[]):
        days_stack.publish(ecom_wave + pos_wave)
        days_stack.wait_for_outcomes(event_keys([ecom_wave, pos_wave]))
    outcomes = days_stack.final_outcomes()

    # Then every event has its outcome: the stale update superseded, everything else applied
    kinds = {key: o.outcome for key, o in outcomes.items()}
    assert kinds.pop(f"{ECOM_TENANT}:ecom-anna-stale") == "superseded"
    assert set(kinds.values()) == {"applied"}, kinds

    # E-com: four contacts, created once each, with the fields sent (the newer address wins)
    state = settled_state(ecom_engage)
    contacts = {c["attributes"]["email"]: c for c in state["contacts"]}
    assert sorted(contacts) == sorted(
        [ANNA, "bob.berg@example.se", "carol.nilsson@example.se", "erik.johansson@example.se"]
    )
    anna = contacts[ANNA]["attributes"]
    assert (anna["firstName"], anna["city"], anna["street"], anna["zipCode"]) == (
        "Anna",
        "Lund",
        "Stora Södergatan 1",
        "222 23",
    )
    assert (contacts[ANNA]["meta"]["source"], contacts[ANNA]["meta"]["storeExternalId"]) == (
        "ECOM",
        "online-se",
    )
    assert state["requests"]["POST /api/v3/contacts"] == {"201": 4}

    # receipts with exact totals: discounts spread, freight left out; the return negative
    receipts = receipts_by_id(state)
    assert sorted(receipts) == ["order-SE-100234", "order-SE-100300", "return-SE-100234-R1"]
    for entry in receipts.values():
        receipt = entry["receipt"]
        assert sum(
            money(i["grossPaidPrice"]) * (1 if i["type"] == "PURCHASE" else -1) for i in receipt["items"]
        ) == money(receipt["totalGrossPrice"])
    assert money(receipts["order-SE-100234"]["receipt"]["totalGrossPrice"]) == Decimal("1397.00")
    assert money(receipts["order-SE-100300"]["receipt"]["totalGrossPrice"]) == Decimal("499.00")
    returned = receipts["return-SE-100234-R1"]["receipt"]
    assert money(returned["totalGrossPrice"]) == Decimal("-149.00")
    assert [(i["type"], money(i["quantity"])) for i in returned["items"]] == [("RETURN", Decimal(-1))]
    assert receipts["order-SE-100234"]["contactId"] == contacts[ANNA]["id"]
    # orders with their automations, tracking; Anna's order went on to delivered and then returned, and
    # Carol's, which Engage never had, was created by its delivery (issue 10: the journey's end)
    orders = {o["orderId"]: o["order"] for o in state["orders"]}
    assert (orders["SE-100234"]["status"], orders["SE-100234"]["externalStatus"]) == ("Completed", "Returned")
    assert (orders["SE-100300"]["status"], orders["SE-100300"]["externalStatus"]) == (
        "Completed",
        "Delivered",
    )
    assert orders["SE-100301"]["status"] == "Cancelled"
    assert sorted(a["action"] for a in state["order_actions"]) == [
        "CancelOrder",
        "ConfirmOrder",
        "ConfirmOrder",
        "ConfirmShipment",
    ]
    assert len(state["tracking"]["productviews"]) == 1
    assert len(state["tracking"]["carts"]) == 1

    # POS: the new member, the welcome offer assigned and redeemed in the same visit, the voucher used once
    pos_state = settled_state(pos_engage)
    members = {c["attributes"].get("memberNumber"): c for c in pos_state["contacts"]}
    assert sorted(members) == ["100200300", "200300400"]
    assert members["200300400"]["id"] == KARIN_ID
    assert [a["promotionId"] for a in pos_state["promotion_assignments"]] == [WELCOME_PROMOTION]
    assert len(pos_state["promotion_redemptions"]) == 1
    assert pos_state["promotion_redemptions"][0]["channel"] == "POS"
    assert pos_state["promotion_redemptions"][0]["contactId"] == members["100200300"]["id"]
    assert [v["voucherId"] for v in pos_state["voucher_redemptions"]] == [KARIN_VOUCHER_ID]
    pos_receipts = receipts_by_id(pos_state)
    assert money(
        pos_receipts["receipt-store-001-kassa2-20261124-0457"]["receipt"]["totalGrossPrice"]
    ) == Decimal("943.20")
    assert money(pos_receipts["return-store-001-R-0099"]["receipt"]["totalGrossPrice"]) == Decimal("-149.00")
    assert pos_receipts["receipt-store-001-kassa1-20261124-0460"]["contactId"] == KARIN_ID
    # tenants never crossed: no e-com data at the POS Engage and the reverse
    assert "order-SE-100234" not in pos_receipts
    assert not any(r.startswith("receipt-") for r in receipts)

    # the calls each event cost: known customers need no lookup
    calls = {key.split(":", 1)[1]: o.calls for key, o in outcomes.items()}
    assert calls["ecom-anna-created"] == ["contacts.lookup", "contacts.create"]
    # (a delivery or a return of an order: the receipt, then the order's move and a look at its job)
    moved = ["orders.change_status", "orders.job"]
    assert calls["ecom-anna-delivered"] == ["receipts.create", *moved]
    assert calls["ecom-anna-return"] == ["receipts.create", *moved]
    assert calls["ecom-anna-moved"] == ["contacts.patch"]
    assert calls["ecom-anna-stale"] == []
    assert calls["ecom-carol-delivered"] == [
        "contacts.lookup",
        "contacts.create",
        "receipts.create",
        *moved,
        "orders.create",  # Engage had no order SE-100300: created from the receipt, delivered
        "orders.job",
    ]
    assert calls["ecom-anna-view"] == ["tracking.productview"]
    # Karin's receipt and voucher race in one wave: whichever resolves her first looks her up, the other
    # finds her in the contact-id store (the customer lock makes it exactly one lookup between them)
    karin = calls["pos-karin-receipt"] + calls["pos-karin-voucher"]
    assert karin.count("contacts.lookup") == 1, karin
    assert [c for c in calls["pos-karin-receipt"] if c != "contacts.lookup"] == ["receipts.create"]
    assert [c for c in calls["pos-karin-voucher"] if c != "contacts.lookup"] == [
        "vouchers.list",
        "vouchers.redeem",
    ]


def normalized(state: dict[str, Any]) -> dict[str, Any]:
    """The parts of the state that must not depend on delivery order or repetition."""
    contacts = sorted(
        ({k: v for k, v in c["attributes"].items()} for c in state["contacts"]), key=lambda a: a["email"]
    )
    receipts = sorted((r["uniqueReceiptId"], r["receipt"]["totalGrossPrice"]) for r in state["receipts"])
    orders = sorted(
        (o["orderId"], o["order"]["status"], o["order"].get("externalStatus")) for o in state["orders"]
    )
    return {
        "contacts": contacts,
        "receipts": receipts,
        "orders": orders,
        "productviews": len(state["tracking"]["productviews"]),
        "carts": len(state["tracking"]["carts"]),
    }


def test_events_delivered_twice_and_shuffled_leave_the_same_state(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    tenants = {
        ECOM_TENANT: {
            "base_url": simulator.base_url,
            "api_key_env": "ACME_KEY",
            "policy": {"source": "ECOM", "default_store": "online-se"},
        }
    }
    env = {"ACME_KEY": simulator.api_key}
    waves = ecom_day()
    everything = [e for wave in waves for e in wave]
    with relay_stack(redis_url, tmp_path / "ordered", tenants, env) as stack:
        stack.start_worker()
        stack.start_ingest()
        run_waves(stack, waves)
        ordered = normalized(settled_state(simulator.admin))

    # Given a fresh Engage and relay, when every event is published twice in a shuffled order
    simulator.admin.reset()
    redis.Redis.from_url(redis_url).flushall()
    shuffled = everything + everything
    random.Random(20261128).shuffle(shuffled)
    with relay_stack(redis_url, tmp_path / "shuffled", tenants, env) as stack:
        stack.start_worker()
        stack.start_ingest()
        stack.publish(shuffled)
        final = stack.wait_for_outcomes(event_keys([everything]), timeout_s=90)
        # then nothing is lost or rejected, and Engage ends in the same state
        assert {o.outcome for o in final.values()} <= {"applied", "superseded"}
        state = settled_state(simulator.admin)
    assert normalized(state) == ordered
    assert len(state["receipts"]) == 3
    assert state["requests"]["POST /api/v3/contacts"].get("201") == 4
