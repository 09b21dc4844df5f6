"""Chaos: over 3,000 events for two tenants while everything that can fail fails, and every event ends once.

Real processes throughout: a private Redis, `engage-relay ingest` (with its mover), two and then more
`engage-relay worker`s, beat (the fallback sweep), two Engage simulators (one per tenant: nordic-no's
imports files from inside the SFTP server's chroot, which one shared simulator folder cannot be), a real
FTP server (acme-se's fallback) and a real OpenSSH SFTP server (nordic-no's).

While the events flow: Engage answers 500/503/504 to 15 % of calls and times out on some; workers are
SIGKILLed several times (some right after taking a message); ingest is SIGKILLed and restarted; both
Engages are down for 40 s (so held events spill to files: `spill_after_s` is short here; the outage test
covers the default); acme-se's FTP server is down for 30 s of that; two extra sweeps of one tenant run in
the same second; the same customers are updated through the file path (during the outage) and the API
path (after it), newer and older in every order; a few hundred verbatim duplicates and malformed envelopes
are mixed in.

At the end: exactly one outcome per valid event, none lost, none with two; no older value over a newer one
in Engage's state; nothing waiting for a human (no dead letter, no job left, every spilled event delivered);
no file name used twice on the servers; no secret in any log, dead letter, file or Redis value. It prints
the accounting table.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import redis

from fallback.deadletters import RedisDeadLetterStore
from relay.keys import SPILL_PREFIX
from relay.schedule import RedisSchedule
from tests.integration.pipeline.days import event as example_event
from tests.support.file_servers import FTP_PASSWORD, SFTP_PASSWORD, FtpServer, SftpServer
from tests.support.outage_day import WELCOME, member_id, pos_seed, voucher_id
from tests.support.simulator import RunningSimulator, start_simulator
from tests.support.stack import RelayStack, relay_stack

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("heavy")]  # one at a time (make test)

ECOM, POS = "acme-se", "nordic-no"
POS_KEY = "chaos-nordic-key-5c1f"
CUSTOMERS = 360  # acme-se: created, two updates, a delivery each, a return for a quarter -> 1,530 events
MEMBERS = 380  # nordic-no: a receipt, an offer assigned and redeemed, a voucher each, some updates -> 1,600
DUPLICATES = 300
MALFORMED = 40
OUTAGE_S = 40.0
FTP_DOWN_AFTER_S = 6.0
FTP_DOWN_FOR_S = 30.0
SPILL_AFTER_S = 8
IMPORT_GRACE_S = 2
SETTLE_TIMEOUT_S = 240.0
FINAL = {"applied", "superseded", "rejected", "delivered_by_file"}
FAULTS = {
    "error_rate": 0.15,
    "error_statuses": [500, 503, 504],
    "timeout_rate": 0.02,
    "timeout_s": 3,
    "latency_ms": {"p50": 5, "p99": 60},
}
DAY0, DAY1, DAY2 = "2026-11-24T10:00:00+01:00", "2026-11-25T10:00:00+01:00", "2026-11-26T10:00:00+01:00"


def created(n: int) -> dict[str, Any]:
    data = {"email": f"kund{n}@example.se", "first_name": f"Kund{n}", "city": "Malmö", "street": "Gata 0"}
    return example_event("customer.created", f"c-{n}", ECOM, DAY0) | {"data": data}


def update(n: int, which: int) -> dict[str, Any]:
    """Update 1 (day 1) moves the street and the city; update 2 (day 2) the city again."""
    data: dict[str, Any] = {"email": f"kund{n}@example.se", "city": f"Stad{n}-{which}"}
    if which == 1:
        data["street"] = f"Gata {n}"
    return example_event("customer.updated", f"u{which}-{n}", ECOM, DAY1 if which == 1 else DAY2) | {
        "data": data
    }


def expected_contact(n: int) -> dict[str, str]:
    return {"firstName": f"Kund{n}", "city": f"Stad{n}-2", "street": f"Gata {n}"}


def delivery(n: int) -> dict[str, Any]:
    return example_event(
        "order.delivered", f"o-{n}", ECOM, DAY1, order_id=f"C-{n}", customer={"email": f"kund{n}@example.se"}
    )


def a_return(n: int) -> dict[str, Any]:
    return example_event(
        "return.created",
        f"r-{n}",
        ECOM,
        DAY2,
        return_id=f"C-{n}-R1",
        original_order_id=f"C-{n}",
        customer={"email": f"kund{n}@example.se"},
    )


def member(n: int) -> dict[str, str]:
    return {"member_number": f"900{n:04d}"}


def pos_receipt(n: int) -> dict[str, Any]:
    return example_event(
        "receipt.completed",
        f"p-{n}",
        POS,
        DAY1,
        customer=member(n),
        receipt_id=f"POS-{n}",
        payments=[{"type": "card", "amount": "943.20"}],
        used_vouchers=[],
    )


def pos_assign(n: int) -> dict[str, Any]:
    return example_event("promotion.assigned", f"pa-{n}", POS, DAY0, customer=member(n), promotion_id=WELCOME)


def pos_redeem(n: int) -> dict[str, Any]:
    return example_event(
        "promotion.redeemed", f"pr-{n}", POS, DAY1, customer=member(n), promotion_id=WELCOME, receipt_id=None
    )


def pos_voucher(n: int) -> dict[str, Any]:
    return example_event(
        "voucher.redeemed",
        f"pv-{n}",
        POS,
        DAY1,
        customer=member(n),
        voucher_id=voucher_id(n),
        voucher_number=None,
    )


def pos_update(n: int) -> dict[str, Any]:
    return example_event("customer.updated", f"pu-{n}", POS, DAY2) | {
        "data": {"member_number": f"900{n:04d}", "city": f"Oslo-{n}"}
    }


def waves() -> list[list[dict[str, Any]]]:
    """Four waves; wave 3 is published during the outage, wave 4 after it. Half the customers get their
    newer update by file and the older by the API afterwards, the other half the other way round."""
    early = [n for n in range(CUSTOMERS) if n % 2 == 0]
    late = [n for n in range(CUSTOMERS) if n % 2 == 1]
    return [
        [created(n) for n in range(CUSTOMERS)] + [pos_assign(n) for n in range(MEMBERS)],
        [delivery(n) for n in range(CUSTOMERS)] + [pos_receipt(n) for n in range(MEMBERS)],
        [update(n, 2) for n in early]
        + [update(n, 1) for n in late]
        + [a_return(n) for n in range(CUSTOMERS) if n % 4 == 1]
        + [pos_redeem(n) for n in range(MEMBERS)]
        + [pos_update(n) for n in range(0, MEMBERS, 4)],
        [update(n, 1) for n in early]
        + [update(n, 2) for n in late]
        + [pos_voucher(n) for n in range(MEMBERS)],
    ]


def malformed(rng: random.Random) -> list[str | dict[str, Any]]:
    broken: list[str | dict[str, Any]] = []
    for n in range(MALFORMED):
        kind = n % 4
        if kind == 0:
            broken.append('{"id": "bad-' + str(n) + '", "type": ')  # not JSON
        elif kind == 1:
            broken.append(
                example_event("customer.created", f"bad-{n}", ECOM) | {"data": {"email": "no-at-sign"}}
            )
        elif kind == 2:
            broken.append(example_event("order.delivered", f"bad-{n}", "nobody-here"))
        else:
            env = example_event("receipt.completed", f"bad-{n}", POS)
            del env["occurred_at"]
            broken.append(env)
    rng.shuffle(broken)
    return broken


@pytest.mark.timeout(600)
def test_chaos_every_event_ends_once(
    redis_url: str,
    simulator: RunningSimulator,
    ftp_into_import_dir: FtpServer,
    sftp: SftpServer,
    tmp_path: Path,
) -> None:
    with start_simulator(sftp.root / "integration", api_keys=(POS_KEY,), seed=pos_seed(MEMBERS)) as pos_sim:
        os.chown(pos_sim.import_dir, sftp.user.pw_uid, sftp.user.pw_gid)
        tenants = {
            ECOM: {
                "base_url": simulator.base_url,
                "api_key_env": "ECOM_KEY",
                "rate_budget_per_s": 80,
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
                    "import_grace_s": IMPORT_GRACE_S,
                },
            },
            POS: {
                "base_url": pos_sim.base_url,
                "api_key_env": "POS_KEY",
                "rate_budget_per_s": 80,
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
                    "import_grace_s": IMPORT_GRACE_S,
                },
            },
        }
        env = {
            "ECOM_KEY": simulator.api_key,
            "POS_KEY": POS_KEY,
            "ECOM_FTP_PASSWORD": FTP_PASSWORD,
            "POS_SFTP_PASSWORD": SFTP_PASSWORD,
            "ENGAGE_RELAY_RETRY_LADDER_S": "1,2,3,5,8,13",
            "ENGAGE_RELAY_REDRIVE_AFTER_S": "15",
            "ENGAGE_RELAY_READ_TIMEOUT_S": "2",
            "ENGAGE_RELAY_BREAKER_OPEN_S": "3",
            "ENGAGE_RELAY_FALLBACK_SWEEP_S": "2",
        }
        with relay_stack(redis_url, tmp_path / "relay", tenants, env) as stack:
            outboxes = [tmp_path / "outbox-ecom", tmp_path / "outbox-pos"]
            run_chaos(stack, simulator, pos_sim, ftp_into_import_dir, list(env.values())[:4], outboxes)


def run_chaos(
    stack: RelayStack,
    ecom_sim: RunningSimulator,
    pos_sim: RunningSimulator,
    ftp: FtpServer,
    secrets: list[str],
    outboxes: list[Path],
) -> None:
    rng = random.Random(20261201)
    valid: list[dict[str, Any]] = []

    def publish(events: list[dict[str, Any]], extra: list[Any] | None = None) -> None:
        valid.extend(events)
        mixed: list[Any] = list(events) + list(extra or [])
        rng.shuffle(mixed)
        stack.publish(mixed)

    def kill_a_worker(name: str, replacement: str) -> None:
        stack.procs[name].kill()
        stack.start_worker(replacement)

    stack.start_worker("worker-1")
    stack.start_worker("worker-2")
    stack.start_ingest("ingest")
    stack.start_beat()
    ecom_sim.admin.set_faults(**FAULTS)
    pos_sim.admin.set_faults(**FAULTS)
    first, second, third, fourth = waves()
    broken = malformed(rng)

    # Wave 1 while Engage flakes; workers are killed under load, one of them twice over.
    publish(first, broken[: MALFORMED // 2])
    time.sleep(1.0)
    kill_a_worker("worker-1", "worker-3")
    time.sleep(0.7)
    kill_a_worker("worker-3", "worker-4")
    # Wave 2 while ingest is dead; it is restarted under the same consumer name.
    stack.procs["ingest"].kill()
    publish(second, [rng.choice(first) for _ in range(DUPLICATES // 3)])
    time.sleep(2.0)
    stack.start_ingest("ingest")
    time.sleep(2.0)
    kill_a_worker("worker-2", "worker-5")
    # Both Engages go down for 40 s; wave 3 meanwhile (it spills); acme-se's FTP goes down too.
    ecom_sim.admin.set_faults(outage=True)
    pos_sim.admin.set_faults(outage=True)
    outage_start = time.monotonic()
    publish(third, [rng.choice(first + second) for _ in range(DUPLICATES // 3)])
    time.sleep(FTP_DOWN_AFTER_S)
    ftp.stop()
    time.sleep(SPILL_AFTER_S)
    two_sweeps_in_one_second(stack, POS)
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - outage_start)))
    ecom_sim.admin.set_faults(outage=False)
    pos_sim.admin.set_faults(outage=False)
    # Wave 4 after the outage (the other half of the updates, by the API), while the FTP server is down.
    publish(fourth, broken[MALFORMED // 2 :] + [rng.choice(third) for _ in range(DUPLICATES // 3)])
    kill_a_worker("worker-4", "worker-6")
    time.sleep(max(0.0, FTP_DOWN_FOR_S - (time.monotonic() - outage_start - FTP_DOWN_AFTER_S)))
    ftp.start()
    ecom_sim.admin.set_faults(error_rate=0.0, timeout_rate=0.0)
    pos_sim.admin.set_faults(error_rate=0.0, timeout_rate=0.0)

    keys = sorted({f"{e['tenant']}:{e['id']}" for e in valid})
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    history = outcome_history(stack)
    while time.monotonic() < deadline and not all(history.get(k) for k in keys):
        time.sleep(2.0)
        history = outcome_history(stack)
    time.sleep(3.0)  # a second outcome, if any were coming, would have come by now
    history = outcome_history(stack)
    report(keys, history)

    lost = [k for k in keys if not history.get(k)]
    twice = {k: v for k, v in history.items() if len(v) > 1}
    if lost:
        diagnose(stack, lost)
    assert lost == [], f"{len(lost)} events without an outcome, e.g. {lost[:5]}"
    assert twice == {}, f"{len(twice)} events with two outcomes, e.g. {list(twice.items())[:3]}"
    assert {o for v in history.values() for o in v} <= FINAL
    unknown = (
        set(history) - set(keys) - {f"{t}:bad-{n}" for t in (ECOM, POS, "nobody-here") for n in range(99)}
    )
    assert unknown == set()
    check_nothing_waits(stack)
    check_engage_state(ecom_sim, pos_sim, stack)
    check_file_names(ecom_sim, pos_sim)
    check_no_secrets(stack, secrets, outboxes)
    assert any("delivered_by_file" in v for v in history.values()), "the outage should have spilled to files"
    for name in ("ingest", "worker-5", "worker-6"):
        assert stack.procs[name].alive(), stack.procs[name].log_tail()


def diagnose(stack: RelayStack, lost: list[str]) -> None:
    """What the unsettled events wait for: the schedule, the breakers, a few trails."""
    from relay.breaker import RedisCircuitBreaker
    from relay.trail import RedisTrail

    client = redis.Redis.from_url(stack.redis_url)
    schedule, trail, breaker = RedisSchedule(client), RedisTrail(client), RedisCircuitBreaker(client)
    for tenant in (ECOM, POS):
        counts = {lane: schedule.counts(tenant, lane) for lane in ("live", "backlog")}
        print(f"{tenant}: breaker {breaker.info(tenant)}, schedule {counts}")
        reasons = Counter((j.reason, j.lane, j.attempt) for j in schedule.jobs(tenant))
        print(f"  waiting by (reason, lane, attempt): {reasons.most_common(8)}")
    for key in lost[:4]:
        tenant, event_id = key.split(":", 1)
        print(key, [e.model_dump(exclude_none=True) for e in trail.read(tenant, event_id)][-4:])
    client.close()
    for name, proc in stack.procs.items():
        print(f"--- {name}\n{proc.log_tail(6)}")


def two_sweeps_in_one_second(stack: RelayStack, tenant: str) -> None:
    """Two operators run `engage-relay fallback sweep` for one tenant at the same moment (beat runs too)."""
    command = [sys.executable, "-m", "workers.cli", "fallback", "sweep", "--tenant", tenant]
    procs = [
        subprocess.Popen(
            command, env={**os.environ, **stack.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode(errors="replace")[-500:]


def outcome_history(stack: RelayStack) -> dict[str, list[str]]:
    history: dict[str, list[str]] = defaultdict(list)
    for outcome in stack.outcomes():
        history[f"{outcome.tenant}:{outcome.event_id}"].append(outcome.outcome)
    return history


def report(keys: list[str], history: dict[str, list[str]]) -> None:
    table = Counter((key.split(":", 1)[0], (history.get(key) or ["lost"])[-1]) for key in keys)
    print("\naccounting (tenant, final outcome): events")
    for (tenant, outcome), count in sorted(table.items()):
        print(f"  {tenant:10} {outcome:18} {count}")
    print(f"  {'total':10} {'':18} {sum(table.values())} valid events")
    print(f"  events with two outcomes: {sum(1 for k in keys if len(history.get(k, [])) > 1)}")


def check_nothing_waits(stack: RelayStack) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    try:
        assert RedisDeadLetterStore(client).count() == 0, "a dead letter waits for a human"
        spill = RedisDeadLetterStore(client, prefix=SPILL_PREFIX)
        assert {letter.fallback_state for letter in spill.list()} <= {"delivered_by_file", "superseded"}
        schedule = RedisSchedule(client)
        assert [j.event_id for t in (ECOM, POS) for j in schedule.jobs(t)] == [], "jobs left in the schedule"
        assert client.xlen("engage:events") == 0, "stream entries left after their events were admitted"
    finally:
        client.close()


def check_engage_state(ecom_sim: RunningSimulator, pos_sim: RunningSimulator, stack: RelayStack) -> None:
    ecom = ecom_sim.admin.state()
    ids = [r["uniqueReceiptId"] for r in ecom["receipts"]]
    assert len(ids) == len(set(ids)), "a receipt was applied twice"
    expected = {f"order-C-{n}" for n in range(CUSTOMERS)} | {
        f"return-C-{n}-R1" for n in range(CUSTOMERS) if n % 4 == 1
    }
    if set(ids) != expected:
        from relay.trail import RedisTrail

        trail = RedisTrail(redis.Redis.from_url(stack.redis_url))
        for receipt in ecom["unmatched_receipts"][:3]:
            n = receipt["uniqueReceiptId"].split("-")[2]
            for event_id in (f"c-{n}", f"o-{n}"):
                print(
                    event_id, [(e.step, e.reason, e.outcome, e.at.time()) for e in trail.read(ECOM, event_id)]
                )
        for entry in ecom["imports"]:
            print("import", {k: entry.get(k) for k in ("file", "folder", "kind", "records", "applied", "at")})
    assert set(ids) == expected, (sorted(expected - set(ids))[:5], ecom["unmatched_receipts"][:3])
    contacts = {c["attributes"]["email"]: c["attributes"] for c in ecom["contacts"]}
    assert len(contacts) == CUSTOMERS == len(ecom["contacts"]), "a customer was created twice or not at all"
    stale = {}
    for n in range(CUSTOMERS):
        want = expected_contact(n)
        got = {k: contacts[f"kund{n}@example.se"].get(k) for k in want}
        if got != want:
            stale[n] = (got, want)
    if stale:
        from engage.contact_store import RedisContactIdStore
        from mappers.identity import LookupKey
        from relay.ledger import RedisLedger, file_clock_ref
        from relay.trail import RedisTrail

        client = redis.Redis.from_url(stack.redis_url)
        trail, ledger, store = RedisTrail(client), RedisLedger(client), RedisContactIdStore(client)
        for n in list(stale)[:3]:
            email = f"kund{n}@example.se"
            ref = file_clock_ref([LookupKey("email", email)]) or ""
            known = store.get(ECOM, "email", email)
            guid = known.contact_id if known else None
            engage_contact = next(c for c in ecom["contacts"] if c["attributes"]["email"] == email)
            print(n, "store", known, "engage", engage_contact["id"], engage_contact.get("meta"))
            print(n, "clock guid", ledger.field_clock(ECOM, guid) if guid else None)
            print(n, "clock ref", ledger.field_clock(ECOM, ref))
        for entry in ecom["imports"]:
            if entry.get("errors") or entry.get("skipped"):
                print(
                    "import",
                    {k: entry.get(k) for k in ("file", "kind", "records", "applied", "skipped")},
                    entry.get("errors", [])[:3],
                )
            for event_id in (f"c-{n}", f"u1-{n}", f"u2-{n}", f"o-{n}"):
                steps = [(e.step, e.reason, e.outcome, e.detail) for e in trail.read(ECOM, event_id)]
                print(n, event_id, steps[-5:])
    assert stale == {}, (
        f"{len(stale)} contacts hold an older value over a newer one, e.g. {list(stale.items())[:3]}"
    )
    pos = pos_sim.admin.state()
    pos_ids = [r["uniqueReceiptId"] for r in pos["receipts"]]
    assert sorted(pos_ids) == sorted(f"receipt-POS-{n}" for n in range(MEMBERS))
    redeemed = [r["voucherId"] for r in pos["voucher_redemptions"]]
    assert sorted(redeemed) == sorted(voucher_id(n) for n in range(MEMBERS)), (
        "a voucher redeemed twice or not"
    )
    by_contact = Counter(r["contactId"] for r in pos["promotion_redemptions"])
    assert by_contact == {member_id(n): 1 for n in range(MEMBERS)}, "an offer redeemed twice or not at all"
    assigned = Counter(a["contactId"] for a in pos["promotion_assignments"])
    assert set(assigned.values()) == {1}, "an offer assigned twice"


def check_file_names(ecom_sim: RunningSimulator, pos_sim: RunningSimulator) -> None:
    # A name is the tenant's own (its sequence): two tenants' first files of one second share a name
    for sim in (ecom_sim, pos_sim):
        imports = sim.admin.state()["imports"]
        # every record of every file read without an error (a contacts file keyed other than the tenant's
        # contact type would be skipped whole while its events say delivered_by_file)
        failed = [(i["file"], i["errors"][:2]) for i in imports if i["errors"]]
        assert not failed, f"import files with errors: {failed[:3]}"
        names = [i["file"] for i in imports]
        assert names, "no import file reached a simulator"
        assert len(names) == len(set(names)), f"a file name was used twice: {Counter(names).most_common(3)}"


def check_no_secrets(stack: RelayStack, secrets: list[str], folders: list[Path]) -> None:
    needles = [s.encode() for s in secrets if s]
    files = [p for folder in [stack.workdir, *folders] if folder.exists() for p in folder.rglob("*")]
    for path in files:
        if path.is_file():
            data = path.read_bytes()
            found = [n.decode() for n in needles if n in data]
            assert not found, f"a secret in {path}"
    client = redis.Redis.from_url(stack.redis_url)
    try:
        for key in client.scan_iter(count=1000):
            kind = client.type(key).decode()
            values: list[bytes] = []
            if kind == "string":
                values = [client.get(key) or b""]
            elif kind == "hash":
                values = list(client.hgetall(key).values())
            elif kind == "list":
                values = client.lrange(key, 0, -1)
            elif kind == "set":
                values = list(client.smembers(key))
            elif kind == "zset":
                values = client.zrange(key, 0, -1)
            elif kind == "stream":
                values = [v for _, fields in client.xrange(key) for v in fields.values()]
            for value in [key, *values]:
                assert not any(n in value for n in needles), f"a secret in Redis key {key!r}"
    finally:
        client.close()
