"""Engage down for a minute while a retail day arrives, then back: the relay holds, drains, and (only for a
long outage) spills, by itself.

Real processes throughout: a private Redis, `engage-relay ingest` (with its mover), two workers, beat,
the Engage simulator over HTTP (one Engage per API key: acme-se's and nordic-no's) and, for the spill,
Debian's vsftpd as the tenants' file server, whose folder the simulator imports from.

- `test_outage_with_defaults_holds_and_drains`: nothing is configured but the tenants' connections and
  their file server (so a spill *could* happen): with the shipped settings (breaker, ladder, re-drive,
  `spill_after_s` 600 s, sweep every 60 s) a 60 s outage holds every event and drains it through
  the API once a probe succeeds: every event applied (or superseded by a newer one of the same order or
  contact), none dead-lettered, none filed.
- `test_outage_longer_than_spill_after_files_receipts_and_contacts`: the same day and outage, with the
  tenants' `spill_after_s` shortened to 10 s (nothing else changed): POS receipts and contacts go
  by file (contacts because the bulk API is down too) and the simulator imports them; offers, vouchers
  and the order journey (deliveries and returns too: their order moves have no file channel) wait and
  drain through the API after the outage, and every order ends in its last state.

Each prints its accounting: per tenant, event type and final outcome, and what each Engage holds.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from fallback.deadletters import RedisDeadLetterStore
from relay.keys import SPILL_PREFIX
from relay.schedule import RedisSchedule
from tests.support.file_servers import SFTP_PASSWORD, VsftpdServer, skip_or_fail_without_vsftpd, vsftpd_server
from tests.support.outage_day import (
    ECOM,
    POS,
    accounting,
    day_waves,
    engage_summary,
    member_id,
    pos_seed,
    print_accounting,
    tenant_table,
)
from tests.support.simulator import RunningSimulator, SimAdmin, start_simulator
from tests.support.stack import RelayStack, relay_stack
from workers.settings import DEFAULT_WORKER_CONCURRENCY

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("heavy")]  # one at a time (make test)

CUSTOMERS = 40  # acme-se: 40 x (sign-up, placed, shipped, delivered, moved) + 10 returns = 210 events
MEMBERS = 40  # nordic-no: 40 x (offer assigned, receipt, offer redeemed, voucher redeemed) + 10 moves = 170
OUTAGE_S = 60.0
SHORT_SPILL_AFTER_S = 10
SETTLE_TIMEOUT_S = 150.0
FINAL = {"applied", "superseded", "rejected", "delivered_by_file", "dead_lettered", "skipped"}
# a newer state of the same order (a shipment drained before its placing) or contact makes an older
# event superseded: nothing lost, Engage holds the newest
MAY_BE_SUPERSEDED = {"order.placed", "order.shipped", "customer.updated", "customer.created"}
SPILLED_TYPES = {"customer.created", "customer.updated", "receipt.completed"}
# a delivery or a return that moves an order waits for the API: its order move has no file channel
ECOM_KEY_ENV, POS_KEY_ENV, FTP_PASSWORD_ENV = "OUTAGE_ECOM_KEY", "OUTAGE_POS_KEY", "OUTAGE_FTP_PASSWORD"


@contextmanager
def day_stack(
    redis_url: str, sim: RunningSimulator, workdir: Path, fallback: dict[str, dict[str, Any]]
) -> Iterator[RelayStack]:
    """Both tenants on `sim` (acme-se on its first key, nordic-no on its second), shipped defaults for
    every process setting (the shipped retry ladder too), two workers, ingest and beat started."""
    tenants = {
        ECOM: tenant_table(sim.base_url, ECOM_KEY_ENV, ECOM, fallback[ECOM]),
        POS: tenant_table(sim.base_url, POS_KEY_ENV, POS, fallback[POS]),
    }
    env = {ECOM_KEY_ENV: sim.api_key, POS_KEY_ENV: sim.api_key_2, FTP_PASSWORD_ENV: SFTP_PASSWORD}
    with relay_stack(redis_url, workdir, tenants, env, retry_ladder_s=None) as stack:
        stack.start_worker("worker-1", DEFAULT_WORKER_CONCURRENCY)
        stack.start_worker("worker-2", DEFAULT_WORKER_CONCURRENCY)
        stack.start_ingest("ingest")
        stack.start_beat()
        yield stack


def run_day_through_outage(stack: RelayStack, sim: RunningSimulator) -> tuple[list[str], dict[str, str]]:
    """The waves spread over the 60 s while Engage answers 503 to everything, then Engage back; returns
    the valid events' keys and their types once all have settled (a spill sends its sweep at once)."""
    waves = day_waves(CUSTOMERS, MEMBERS)
    types = {f"{e['tenant']}:{e['id']}": str(e["type"]) for wave in waves for e in wave}
    sim.admin.set_faults(outage=True)
    started = time.monotonic()
    gap = (OUTAGE_S - 10.0) / len(waves)
    for wave in waves:
        stack.publish(wave)
        time.sleep(gap)
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))
    sim.admin.set_faults(outage=False)
    back = time.monotonic()
    keys = sorted(types)
    wait_settled(stack, keys)
    print(f"\nEngage down {OUTAGE_S:.0f} s; events settled {time.monotonic() - back:.0f} s after it was back")
    return keys, types


def wait_settled(stack: RelayStack, keys: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    final: dict[str, str] = {}
    while time.monotonic() < deadline:
        final = {k: o.outcome for k, o in stack.final_outcomes().items()}
        if all(k in final for k in keys):
            break
        time.sleep(1.0)
    return final


def history(stack: RelayStack) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for outcome in stack.outcomes():
        if outcome.outcome != "duplicate":
            seen.setdefault(f"{outcome.tenant}:{outcome.event_id}", []).append(outcome.outcome)
    return seen


def waiting(stack: RelayStack) -> dict[str, Any]:
    """What is left in Redis for anyone: dead letters, spilled events not yet delivered, scheduled jobs."""
    client = redis.Redis.from_url(stack.redis_url)
    try:
        spill = RedisDeadLetterStore(client, prefix=SPILL_PREFIX).list()
        schedule = RedisSchedule(client)
        jobs = [(j.tenant, j.event_id, j.reason) for t in (ECOM, POS) for j in schedule.jobs(t)]
        return {
            "dead letters": [
                (d.tenant, d.event_id, d.error_class) for d in RedisDeadLetterStore(client).list()
            ],
            "spilled, not delivered": [
                (d.tenant, d.event_id, d.fallback_state)
                for d in spill
                if d.fallback_state not in {"delivered_by_file", "superseded"}
            ],
            "jobs": jobs,
        }
    finally:
        client.close()


def engage_states(sim: RunningSimulator) -> tuple[dict[str, Any], dict[str, Any]]:
    ecom, pos = sim.admin_for(sim.api_key), sim.admin_for(sim.api_key_2)
    try:
        return ecom.state(), pos.state()
    finally:
        ecom.close()
        pos.close()


def unmoved_orders(ecom: dict[str, Any]) -> list[str]:
    """Orders not in their last state: Delivered, or Returned for those with a return."""
    want = {f"E-{n}": "Returned" if n % 4 == 1 else "Delivered" for n in range(CUSTOMERS)}
    return sorted(
        o["orderId"] for o in ecom["orders"] if o["order"].get("externalStatus") != want[o["orderId"]]
    )


def check_engage_holds_the_day(ecom: dict[str, Any], pos: dict[str, Any]) -> None:
    """Every receipt once, every contact once with its newest city, every order in its last state, every
    offer and voucher redeemed once."""
    receipts = Counter(r["uniqueReceiptId"] for r in ecom["receipts"])
    want = {f"order-E-{n}" for n in range(CUSTOMERS)} | {
        f"return-E-{n}-R1" for n in range(CUSTOMERS) if n % 4 == 1
    }
    assert set(receipts) == want and set(receipts.values()) == {1}, sorted(want ^ set(receipts))[:5]
    cities = {c["attributes"].get("email"): c["attributes"].get("city") for c in ecom["contacts"]}
    assert len(ecom["contacts"]) == CUSTOMERS, "a customer was created twice or not at all"
    stale = {
        n: cities.get(f"kund{n}@example.se")
        for n in range(CUSTOMERS)
        if cities.get(f"kund{n}@example.se") != f"Lund-{n}"
    }
    assert stale == {}, f"{len(stale)} contacts without their newest city, e.g. {list(stale.items())[:3]}"
    orders = {o["orderId"]: o for o in ecom["orders"]}
    assert set(orders) == {f"E-{n}" for n in range(CUSTOMERS)}
    behind = [(o, orders[o]["order"].get("externalStatus")) for o in unmoved_orders(ecom)]
    assert behind == [], f"orders not in their last state: {behind[:5]}"
    pos_receipts = Counter(r["uniqueReceiptId"] for r in pos["receipts"])
    assert pos_receipts == {f"receipt-POS-{n}": 1 for n in range(MEMBERS)}
    assert len(pos["voucher_redemptions"]) == MEMBERS, "a voucher redeemed twice or not at all"
    assert len(pos["promotion_redemptions"]) == MEMBERS, "an offer redeemed twice or not at all"
    assigned = Counter(a["contactId"] for a in pos["promotion_assignments"])
    assert len(assigned) == MEMBERS and set(assigned.values()) == {1}, "an offer assigned twice or not at all"
    city = {c["id"]: c["attributes"].get("city") for c in pos["contacts"]}
    moved = {n: city.get(member_id(n)) for n in range(0, MEMBERS, 4) if city.get(member_id(n)) != f"Oslo-{n}"}
    assert moved == {}, f"members without their newest city: {list(moved.items())[:3]}"


def order_statuses(ecom: dict[str, Any]) -> Counter[str]:
    return Counter(f"{o['order'].get('status')}/{o['order'].get('externalStatus')}" for o in ecom["orders"])


@pytest.mark.timeout(300)
def test_outage_with_defaults_holds_and_drains(
    redis_url: str, simulator: RunningSimulator, tmp_path: Path
) -> None:
    simulator.admin_for(simulator.api_key_2).seed(pos_seed(MEMBERS))
    # a real file server is configured (transport, where, who): with the shipped spill_after_s a 60 s
    # outage must not use it
    ftp = {"transport": "ftp", "host": "127.0.0.1", "port": 1, "username": "nobody", "remote_dir": "/"}
    fallback = {
        ECOM: {**ftp, "local_dir": str(tmp_path / "out-e")},
        POS: {**ftp, "local_dir": str(tmp_path / "out-p")},
    }
    with day_stack(redis_url, simulator, tmp_path / "relay", fallback) as stack:
        keys, types = run_day_through_outage(stack, simulator)
        seen = history(stack)
        final = {k: v[-1] for k, v in seen.items()}
        ecom, pos = engage_states(simulator)
        print_accounting(
            "accounting, shipped defaults (tenant, type, final outcome)", accounting(keys, final, types)
        )
        print(f"  Engage: {engage_summary(ecom, pos)}")
        print(f"  acme-se orders by status: {dict(order_statuses(ecom))}")
        left = waiting(stack)
        lost = [k for k in keys if k not in final]
        assert lost == [], f"{len(lost)} events without an outcome, e.g. {lost[:5]}; waiting: {left}"
        twice = {k: v for k, v in seen.items() if len(v) > 1}
        assert twice == {}, f"events with two outcomes: {list(twice.items())[:3]}"
        wrong = {
            k: final[k]
            for k in keys
            if final[k] != "applied" and not (final[k] == "superseded" and types[k] in MAY_BE_SUPERSEDED)
        }
        assert wrong == {}, f"{len(wrong)} events not applied by the API: {list(wrong.items())[:8]}"
        assert left == {"dead letters": [], "spilled, not delivered": [], "jobs": []}, left
        assert ecom["imports"] == [] and pos["imports"] == [], "an event went by file"
        # The events of one order drain one at a time, oldest first (relay/sequence.py): every order ends in
        # its last state, even those whose events all waited through the outage side by side.
        check_engage_holds_the_day(ecom, pos)


@pytest.fixture
def vsftpd() -> Iterator[VsftpdServer]:
    skip_or_fail_without_vsftpd()
    with vsftpd_server(folders=()) as server:
        yield server


@pytest.mark.timeout(300)
def test_outage_longer_than_spill_after_files_receipts_and_contacts(
    redis_url: str, vsftpd: VsftpdServer, tmp_path: Path
) -> None:
    integration = vsftpd.root / "integration"
    integration.mkdir()
    with start_simulator(integration / "engage", api_keys=("spill-ecom-key", "spill-pos-key")) as sim:
        folders = {ECOM: sim.import_dir, POS: sim.import_dir_for(sim.api_key_2)}
        for path in [integration, integration / "engage", *folders.values(), folders[POS].parent]:
            os.chown(path, vsftpd.user.pw_uid, vsftpd.user.pw_gid)
        pos_admin = SimAdmin(sim.base_url, sim.api_key_2)
        pos_admin.seed(pos_seed(MEMBERS))
        pos_admin.close()
        fallback = {
            tenant: {
                "transport": "ftp",
                "host": vsftpd.host,
                "port": vsftpd.port,
                "username": vsftpd.username,
                "password_env": FTP_PASSWORD_ENV,
                "remote_dir": "/" + str(folder.relative_to(vsftpd.root)),
                "local_dir": str(tmp_path / f"outbox-{tenant}"),
                "spill_after_s": SHORT_SPILL_AFTER_S,  # the one setting changed
            }
            for tenant, folder in folders.items()
        }
        with day_stack(redis_url, sim, tmp_path / "relay", fallback) as stack:
            keys, types = run_day_through_outage(stack, sim)
            seen = history(stack)
            final = {k: v[-1] for k, v in seen.items()}
            ecom, pos = engage_states(sim)
            table = accounting(keys, final, types)
            print_accounting(
                f"accounting, spill_after_s {SHORT_SPILL_AFTER_S} (tenant, type, final outcome)", table
            )
            print(f"  Engage: {engage_summary(ecom, pos)}")
            print(f"  acme-se orders by status: {dict(order_statuses(ecom))}")
            for entry in ecom["imports"] + pos["imports"]:
                print(
                    "  import",
                    {k: entry.get(k) for k in ("file", "folder", "kind", "records", "applied", "skipped")},
                )
            left = waiting(stack)
            lost = [k for k in keys if k not in final]
            assert lost == [], f"{len(lost)} events without an outcome, e.g. {lost[:5]}; waiting: {left}"
            twice = {k: v for k, v in seen.items() if len(v) > 1}
            assert twice == {}, f"events with two outcomes: {list(twice.items())[:3]}"
            by_file = {k for k in keys if final[k] == "delivered_by_file"}
            assert {types[k] for k in by_file} <= SPILLED_TYPES
            assert {"receipt.completed", "customer.created"} <= {types[k] for k in by_file}
            api_only = {
                k: final[k]
                for k in keys
                if types[k] not in SPILLED_TYPES and final[k] not in {"applied", "superseded"}
            }
            assert api_only == {}, (
                f"events without a file channel not applied by the API: {list(api_only.items())[:5]}"
            )
            assert left == {"dead letters": [], "spilled, not delivered": [], "jobs": []}, left
            kinds = Counter(entry["kind"] for entry in ecom["imports"] + pos["imports"])
            assert kinds["transactions"] >= 1 and kinds["contacts"] >= 1, kinds
            errors = [e for entry in ecom["imports"] + pos["imports"] for e in entry.get("errors", [])]
            assert errors == [], errors[:3]
            # Deliveries and returns did not spill (their order moves have no file channel): they drained
            # through the API after the outage, receipt and move, and every order is in its last state.
            check_engage_holds_the_day(ecom, pos)
