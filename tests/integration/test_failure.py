"""Nothing is lost when Engage, a worker, the consumer or the file server fails.

Real processes throughout: a private Redis, `engage-relay ingest`, two `engage-relay worker`s and beat, two
Engage simulators (one per tenant), a real FTP server (tenant acme-se's fallback) and a real OpenSSH SFTP
server (tenant nordic-no's). Engage answers 500/503/504 to a share of calls and times out on some; a worker
is killed with SIGKILL mid-task; ingest is killed and restarted; acme-se's Engage is down for a minute and
its FTP server for part of that; nordic-no's Engage is down for ten seconds, so its files go by
SFTP. At the end every published event is accounted for exactly once, as
applied, superseded, rejected, or delivered by file (applied by the simulator's import folder), and no
receipt or redemption is applied twice. The test prints the accounting table.

Unlike the other pipeline tests, the two tenants are on two simulators, not on two keys of one: a
simulator's faults (outage, error and timeout rates) apply to every key it serves, and this test gives
the tenants different outages (a minute for acme-se, ten seconds for nordic-no) to show that one
tenant's outage neither holds nor spills the other's events. (nordic-no's simulator is also started
inside the SFTP server's chroot, so that the files it imports are the ones uploaded over SFTP; that
alone would not need a second simulator.)
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.integration.pipeline.days import event as example_event
from tests.support.file_servers import (
    FTP_PASSWORD,
    SFTP_PASSWORD,
    FtpServer,
    SftpServer,
)
from tests.support.simulator import RunningSimulator, start_simulator
from tests.support.stack import RelayStack, relay_stack

pytestmark = pytest.mark.integration

ECOM = "acme-se"
POS = "nordic-no"
POS_KEY = "nordic-failure-key"
CUSTOMERS = 30
MEMBERS = 12
OUTAGE_S = 60.0
FTP_DOWN_AFTER_S = 10.0
FTP_DOWN_FOR_S = 20.0
SETTLE_TIMEOUT_S = 180.0
FINAL = {"applied", "superseded", "rejected", "delivered_by_file"}
SPILL_AFTER_S = 5  # this test is about the file path: outages spill after 5 s (the default test: 10 min)
FAULTS = {
    "error_rate": 0.15,
    "error_statuses": [500, 503, 504],
    "timeout_rate": 0.04,
    "timeout_s": 4,
    "latency_ms": {"p50": 10, "p99": 80},
}


def member_id(n: int) -> str:
    return f"7f1b2c3d-4e5f-4a6b-8c7d-{n:012d}"


def voucher_id(n: int) -> str:
    return f"af61c5c8-7ff8-4234-9b67-{n:012d}"


def ecom_events(wave: int) -> list[dict[str, Any]]:
    events = []
    for n in range(CUSTOMERS):
        email = f"kund{n}@example.se"
        if wave == 1:
            events.append(
                example_event("customer.created", f"f-c{n}", ECOM)
                | {"data": {"email": email, "first_name": f"Kund{n}", "city": "Malmö", "country_code": "SE"}}
            )
        elif wave == 2:
            events.append(
                example_event(
                    "order.delivered", f"f-o{n}", ECOM, order_id=f"F-{n}", customer={"email": email}
                )
            )
        elif n % 2 == 0:
            events.append(
                example_event("customer.updated", f"f-u{n}", ECOM, "2026-11-27T12:00:00+01:00")
                | {"data": {"email": email, "city": "Lund"}}
            )
        elif n % 4 == 1:
            events.append(
                example_event(
                    "return.created",
                    f"f-r{n}",
                    ECOM,
                    return_id=f"F-{n}-R1",
                    original_order_id=f"F-{n}",
                    customer={"email": email},
                )
            )
    return events


def pos_events(wave: int) -> list[dict[str, Any]]:
    events = []
    for n in range(MEMBERS):
        member = {"member_number": f"900{n:04d}"}
        if wave == 2:
            events.append(
                example_event(
                    "receipt.completed",
                    f"p-r{n}",
                    POS,
                    customer=member,
                    receipt_id=f"POS-{n}",
                    payments=[{"type": "card", "amount": "943.20"}],
                    used_vouchers=[],
                )
            )
        elif wave == 3:
            events.append(
                example_event(
                    "voucher.redeemed",
                    f"p-v{n}",
                    POS,
                    customer=member,
                    voucher_id=voucher_id(n),
                    voucher_number=None,
                )
            )
    return events


def pos_seed() -> dict[str, Any]:
    return {
        "contacts": [
            {"id": member_id(n), "email": f"medlem{n}@example.no", "memberNumber": f"900{n:04d}"}
            for n in range(MEMBERS)
        ],
        "vouchers": [
            {
                "id": voucher_id(n),
                "voucherNumber": f"V{n}",
                "contactId": member_id(n),
                "value": {"currency": "SEK", "amount": 100},
            }
            for n in range(MEMBERS)
        ],
    }


def account(stack: RelayStack, keys: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The final outcome per event, and every outcome each event was given, in order."""
    history: dict[str, list[str]] = defaultdict(list)
    for outcome in stack.outcomes():
        history[f"{outcome.tenant}:{outcome.event_id}"].append(outcome.outcome)
    final = {}
    for key in keys:
        real = [o for o in history.get(key, []) if o not in {"duplicate", "held"}]
        final[key] = real[-1] if real else "lost"
    return final, history


@pytest.mark.timeout(420)
def test_nothing_is_lost_when_engage_workers_ingest_and_the_file_server_fail(
    redis_url: str,
    simulator: RunningSimulator,
    ftp_into_import_dir: FtpServer,
    sftp: SftpServer,
    tmp_path: Path,
) -> None:
    with start_simulator(sftp.root / "integration", api_keys=(POS_KEY,), seed=pos_seed()) as pos_sim:
        os.chown(pos_sim.import_dir, sftp.user.pw_uid, sftp.user.pw_gid)
        tenants = {
            ECOM: {
                "base_url": simulator.base_url,
                "api_key_env": "ECOM_KEY",
                "policy": {"source": "ECOM", "default_store": "online-se"},
                "fallback": {
                    "transport": "ftp",
                    "host": "127.0.0.1",
                    "port": ftp_into_import_dir.port,
                    "username": ftp_into_import_dir.username,
                    "password_env": "ECOM_FTP_PASSWORD",
                    "remote_dir": "/",
                    "local_dir": str(tmp_path / "outbox-ecom"),
                    "spill_after_s": SPILL_AFTER_S,
                },
            },
            POS: {
                "base_url": pos_sim.base_url,
                "api_key_env": "POS_KEY",
                "policy": {"source": "POS", "default_store": "store-001", "contact_key": "member_number"},
                "fallback": {
                    "transport": "sftp",
                    "host": "127.0.0.1",
                    "port": sftp.port,
                    "username": sftp.username,
                    "password_env": "POS_SFTP_PASSWORD",
                    "host_key_fingerprint": sftp.host_key_fingerprint,
                    "remote_dir": "/integration/import",
                    "local_dir": str(tmp_path / "outbox-pos"),
                    "spill_after_s": SPILL_AFTER_S,
                },
            },
        }
        env = {
            "ECOM_KEY": simulator.api_key,
            "POS_KEY": POS_KEY,
            "ECOM_FTP_PASSWORD": FTP_PASSWORD,
            "POS_SFTP_PASSWORD": SFTP_PASSWORD,
            "ENGAGE_RELAY_RETRY_LADDER_S": "1,2,3",
            "ENGAGE_RELAY_VISIBILITY_TIMEOUT_S": "12",
            "ENGAGE_RELAY_READ_TIMEOUT_S": "2",
            "ENGAGE_RELAY_BREAKER_OPEN_S": "3",
            "ENGAGE_RELAY_FALLBACK_SWEEP_S": "2",
        }
        with relay_stack(redis_url, tmp_path / "relay", tenants, env) as stack:
            run_chaos(stack, simulator, pos_sim, ftp_into_import_dir)


def run_chaos(
    stack: RelayStack, ecom_sim: RunningSimulator, pos_sim: RunningSimulator, ftp: FtpServer
) -> None:
    published: list[dict[str, Any]] = []

    def publish(events: list[dict[str, Any]]) -> None:
        published.extend(events)
        stack.publish(events)

    stack.start_worker("worker-1")
    stack.start_worker("worker-2")
    stack.start_ingest("ingest")
    stack.start_beat()
    ecom_sim.admin.set_faults(**FAULTS)
    pos_sim.admin.set_faults(**FAULTS)

    # Wave 1 while Engage flakes; a worker is killed mid-task and replaced.
    publish(ecom_events(1) + pos_events(1))
    time.sleep(1.0)
    stack.procs["worker-1"].kill()
    stack.start_worker("worker-3")
    # Wave 2 while ingest is dead; it is restarted under the same consumer name.
    stack.procs["ingest"].kill()
    publish(ecom_events(2) + pos_events(2))
    time.sleep(2.0)
    stack.start_ingest("ingest")
    # acme-se's Engage goes down for a minute; its FTP server for part of it. Wave 3 meanwhile.
    time.sleep(3.0)
    ecom_sim.admin.set_faults(outage=True)
    pos_sim.admin.set_faults(outage=True)  # down for a shorter while: nordic-no's files go by SFTP
    outage_start = time.monotonic()
    publish(ecom_events(3) + pos_events(3))
    time.sleep(FTP_DOWN_AFTER_S)
    pos_sim.admin.set_faults(outage=False)
    ftp.stop()
    time.sleep(FTP_DOWN_FOR_S)
    ftp.start()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_start)))
    ecom_sim.admin.set_faults(outage=False, error_rate=0.0, timeout_rate=0.0)
    pos_sim.admin.set_faults(error_rate=0.0, timeout_rate=0.0)

    keys = [f"{e['tenant']}:{e['id']}" for e in published]
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    final, history = account(stack, keys)
    while time.monotonic() < deadline and not set(final.values()) <= FINAL:
        time.sleep(1.0)
        final, history = account(stack, keys)

    table = Counter((key.split(":", 1)[0], outcome) for key, outcome in final.items())
    print("\naccounting (tenant, final outcome): events")
    for (tenant, outcome), count in sorted(table.items()):
        print(f"  {tenant:10} {outcome:18} {count}")
    print(f"  {'total':10} {'':18} {sum(table.values())} of {len(keys)} published")
    trail = Counter(" > ".join(history[k]) for k in keys)
    print("outcome trails:", dict(trail.most_common(8)))

    # Every event accounted for, exactly once
    lost = {k: history.get(k, []) for k, v in final.items() if v not in FINAL}
    if lost:
        print("unsettled:", lost)
        for name, proc in stack.procs.items():
            print(f"--- {name}\n{proc.log_tail(15)}")
    assert not lost, lost
    for key in keys:
        terminal = [o for o in history[key] if o in FINAL]
        assert len(terminal) == 1, (key, history[key])
    # No receipt or redemption applied twice, and every one of them present
    ecom = ecom_sim.admin.state()
    ids = [r["uniqueReceiptId"] for r in ecom["receipts"]]
    assert len(ids) == len(set(ids))
    expected = {f"order-F-{n}" for n in range(CUSTOMERS)} | {
        f"return-F-{n}-R1" for n in range(CUSTOMERS) if n % 4 == 1
    }
    assert set(ids) == expected, (expected - set(ids), ecom["unmatched_receipts"], ecom["imports"])
    assert sorted(c["attributes"]["email"] for c in ecom["contacts"]) == sorted(
        f"kund{n}@example.se" for n in range(CUSTOMERS)
    )
    pos = pos_sim.admin.state()
    pos_ids = [r["uniqueReceiptId"] for r in pos["receipts"]]
    assert sorted(pos_ids) == sorted(f"receipt-POS-{n}" for n in range(MEMBERS))
    redeemed = [r["voucherId"] for r in pos["voucher_redemptions"]]
    assert sorted(redeemed) == sorted(voucher_id(n) for n in range(MEMBERS))
    # The file path was really taken, and the consumer and the surviving workers are still up
    assert any(o == "delivered_by_file" for o in final.values())
    assert ecom["imports"], "acme-se's outage should have sent files through FTP"
    assert pos["imports"], "nordic-no's outage should have sent files through SFTP"
    for name in ("ingest", "worker-2", "worker-3"):
        assert stack.procs[name].alive(), stack.procs[name].log_tail()
