"""The demo's parts that need no whole stack: its sample data, its tenants file, its FTP drop, its outage
summary, and its process groups."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from fallback.config import DEFAULT_SPILL_AFTER_S, FallbackSettings
from fallback.outbox import REMOTE_SUBDIR_BY_KIND
from fallback.uploaders import uploader_for
from relay.outcomes import Outcome
from relay.spill.outage import SPILL_TYPES
from relay.state import LaneState, TenantState
from relay.tenants_file import load_tenants_file
from schemas.parsing import InvalidEvent, parse_event
from tests.support.processes import free_port
from workers.demo.data import (
    INVALID_EVENT_ID,
    OUTAGE_FILED,
    OUTAGE_TENANT,
    demo_waves,
    outage_wave,
    simulator_seed,
)
from workers.demo.ftp import PASSWORD_ENV, PORT_ENV, ROOT_ENV, USER_ENV
from workers.demo.processes import Supervisor, group_alive, port_open, stop_leftovers
from workers.demo.report import counts, outage_lines, summary_line
from workers.demo.run import DemoResult, OutageReport
from workers.demo.stack import (
    DEMO_SPILL_AFTER_S,
    FTP_PASSWORD_ENV_FOR_TENANTS,
    TENANT_KEY_ENV,
    tenants_toml,
)

# a parent that leaves a grandchild behind in its own process group
PARENT_WITH_GRANDCHILD = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"


def test_every_demo_event_is_valid_but_the_one_broken_on_purpose() -> None:
    # Given the demo's waves, the outage wave too
    envelopes = [e for wave in [*demo_waves(), outage_wave()] for e in wave]
    # Then ids are unique per tenant, and only the broken order is rejected, with its three reasons
    assert len({(e["tenant"], e["id"]) for e in envelopes}) == len(envelopes)
    invalid: dict[str, int] = {}
    for envelope in envelopes:
        try:
            parse_event(envelope)
        except InvalidEvent as exc:
            invalid[envelope["id"]] = len(exc.reasons)
    assert invalid == {INVALID_EVENT_ID: 3}
    assert {e["tenant"] for e in envelopes} == set(TENANT_KEY_ENV)
    assert set(simulator_seed()) == {"contacts", "promotions", "vouchers"}


def test_the_outage_wave_has_file_bound_receipts_and_one_event_that_must_wait_for_the_api() -> None:
    # The scene shows both halves of the outage policy: what spills to a file, and what waits
    wave = outage_wave()
    assert {e["tenant"] for e in wave} == {OUTAGE_TENANT}
    by_id = {e["id"]: e["type"] for e in wave}
    assert set(OUTAGE_FILED) < set(by_id)
    assert all(by_id[event_id] in SPILL_TYPES for event_id in OUTAGE_FILED)
    assert [t for i, t in by_id.items() if i not in OUTAGE_FILED] == ["promotion.assigned"]
    assert "promotion.assigned" not in SPILL_TYPES


def test_the_demo_tenants_file_loads_with_keys_and_ftp_password_from_the_environment(tmp_path: Path) -> None:
    # Given the demo tenants file for a simulator and an FTP drop, each tenant in its own Engage's folder
    path = tmp_path / "tenants.toml"
    folders = {name: f"/tenants/{name}-key-id" for name in TENANT_KEY_ENV}
    path.write_text(
        tenants_toml("http://127.0.0.1:8080", 2121, tmp_path / "outbox", folders), encoding="utf-8"
    )
    env = {var: f"key-{n}" for n, var in enumerate(TENANT_KEY_ENV.values())}
    env[FTP_PASSWORD_ENV_FOR_TENANTS] = "ftp-secret"
    # When it is loaded the way every relay process loads it
    registry = load_tenants_file(path, env)
    # Then both tenants call the simulator, and their dead letters go to the FTP drop
    assert registry.names() == sorted(TENANT_KEY_ENV)
    for tenant in registry:
        assert tenant.base_url == "http://127.0.0.1:8080"
        assert (tenant.fallback.transport, tenant.fallback.port) == ("ftp", 2121)
        assert tenant.fallback.remote_dir == folders[tenant.name]
        assert tenant.fallback.password is not None
        assert tenant.fallback.password.get_secret_value() == "ftp-secret"
    # And only the outage tenant spills after seconds; the other keeps the default ten minutes
    spill = {t.name: t.fallback.spill_after_s for t in registry}
    assert spill.pop(OUTAGE_TENANT) == DEMO_SPILL_AFTER_S
    assert set(spill.values()) == {DEFAULT_SPILL_AFTER_S}
    assert "ftp-secret" not in path.read_text(encoding="utf-8")


def test_stopping_the_supervisor_ends_whole_process_groups_and_keeps_the_record(tmp_path: Path) -> None:
    # Given a child that started a grandchild in its group
    supervisor = Supervisor(tmp_path / "logs", tmp_path / "pids")
    child = supervisor.start(
        "parent", [sys.executable, "-c", PARENT_WITH_GRANDCHILD], {"PATH": "/usr/bin:/bin"}
    )
    time.sleep(0.3)
    assert group_alive(child.pid)
    # When the supervisor stops (twice, as atexit would after a signal)
    supervisor.stop_all()
    supervisor.stop_all()
    # Then nothing of the group is left, and the pids file still names it, stopped
    assert not group_alive(child.pid)
    rows = json.loads((tmp_path / "pids").read_text(encoding="utf-8"))
    assert [(r["name"], r["pgid"], r["stopped"]) for r in rows] == [("parent", child.pid, True)]


def test_a_group_left_by_a_crashed_run_is_stopped_only_when_its_command_still_matches(tmp_path: Path) -> None:
    # Given a pids file from a run that died, naming one live group of ours and one stale entry
    supervisor = Supervisor(tmp_path / "logs", tmp_path / "pids")
    child = supervisor.start("sleeper", ["sleep", "60"], {"PATH": "/usr/bin:/bin"})
    rows = json.loads((tmp_path / "pids").read_text(encoding="utf-8"))
    rows.append({"name": "stranger", "pgid": child.pid, "args": ["something", "else"], "stopped": False})
    (tmp_path / "pids").write_text(json.dumps(rows), encoding="utf-8")
    try:
        # When the next run looks for leftovers
        stopped = stop_leftovers(tmp_path / "pids")
        # Then it stops ours (once) and leaves alone what does not match
        assert stopped == ["sleeper"]
        assert not group_alive(child.pid)
    finally:
        supervisor.stop_all()


def test_the_summary_line_counts_each_outcome_kind_and_the_lost() -> None:
    # Given three published events: one applied, one rejected, one without a final outcome
    result = DemoResult(published=["t:a", "t:b", "t:c"], lost=["t:c"])
    result.outcomes["t:a"] = Outcome(event_id="a", type="order.placed", tenant="t", outcome="applied")
    result.outcomes["t:b"] = Outcome(event_id="b", type="order.placed", tenant="t", outcome="rejected")
    # Then the line counts each kind, the lost one included
    assert summary_line(result) == (
        "demo summary: published=3 applied=1 superseded=0 skipped=0 duplicate=0 rejected=1 "
        "dead_lettered=0 delivered_by_file=0 lost=1"
    )
    assert counts(result)["lost"] == 1


def test_the_demo_ftp_drop_takes_uploads_into_sub_folders_it_did_not_have(tmp_path: Path) -> None:
    # Given the demo's FTP drop, rooted in an import folder holding only a tenant's own (empty) folder
    root = tmp_path / "sim-import"
    (root / "tenants" / "k1").mkdir(parents=True)
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", USER_ENV: "demo", PASSWORD_ENV: "ftp-pw-3e1f", PORT_ENV: str(port)}
    supervisor = Supervisor(tmp_path / "logs", tmp_path / "pids")
    supervisor.start("ftp", [sys.executable, "-m", "workers.demo.ftp"], {**env, ROOT_ENV: str(root)})
    try:
        deadline = time.monotonic() + 10
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        settings = FallbackSettings(
            transport="ftp", port=port, username="demo", password="ftp-pw-3e1f", remote_dir="/tenants/k1"
        )
        local = tmp_path / "20261125120000_1_transactions.xml"
        local.write_text("<receipts/>", encoding="utf-8")
        # When the relay's uploader sends a file into the default sub-folder for transactions
        with uploader_for(settings) as uploader:
            uploader.upload(local, local.name, REMOTE_SUBDIR_BY_KIND["transactions"])
    finally:
        supervisor.stop_all()
    # Then the drop made the folder (MKD) and the file is where the simulator imports from
    landed = root / "tenants" / "k1" / REMOTE_SUBDIR_BY_KIND["transactions"] / local.name
    assert landed.read_text(encoding="utf-8") == "<receipts/>"


def test_the_summary_tells_the_outage_from_the_hold_to_the_import() -> None:
    # Given the outage scene's result: two receipts delivered by file, the offer applied after the outage
    keys = [f"{OUTAGE_TENANT}:{event_id}" for event_id in (*OUTAGE_FILED, "pos-outage-karin-welcome")]
    result = DemoResult(
        published=keys, types=dict(zip(keys, ["receipt.completed"] * 2 + ["promotion.assigned"], strict=True))
    )
    for key in keys[:2]:
        result.outcomes[key] = Outcome(
            event_id=key.split(":")[1],
            type="receipt.completed",
            tenant=OUTAGE_TENANT,
            outcome="delivered_by_file",
            detail="import file 20261125120000_1_transactions.xml uploaded to /tenants/k1/transactionImport",
        )
    result.outcomes[keys[2]] = Outcome(
        event_id="pos-outage-karin-welcome",
        type="promotion.assigned",
        tenant=OUTAGE_TENANT,
        outcome="applied",
        attempts=3,
    )
    held = TenantState(
        name=OUTAGE_TENANT,
        breaker="open",
        rate_budget_per_s=40,
        cooldown_s=0,
        cause="Engage answers 503",
        cause_kind="server_error",
        outage_since=1000.0,
        lanes={"live": LaneState(0, 3, 0), "backlog": LaneState(0, 0, 0)},
    )
    result.outage = OutageReport(
        OUTAGE_TENANT,
        down_s=6.2,
        held=held,
        held_at=1002.0,
        imports=[{"folder": "tenants/k1/transactionImport", "file": "x.xml", "records": 2, "applied": 2}],
        keys=keys,
    )
    # When the summary is written
    text = "\n".join(outage_lines(result))
    # Then it shows the hold as status does, each event's way to Engage, and what Engage imported
    assert "Engage answered 503 for 6.2 s while nordic-no published 3 events" in text
    assert "status said: nordic-no HELD for 2s" in text and "3 events wait (live 3, backlog 0)" in text
    assert "Engage answers 503; they drain by themselves once a probe succeeds" in text
    assert text.count("held, spilled, delivered_by_file: import file 20261125120000_1_transactions.xml") == 2
    assert "(promotion.assigned): held, then applied by the API once Engage was back (attempt 3)" in text
    assert "Engage imported tenants/k1/transactionImport/x.xml: 2 records, 2 applied" in text
    assert counts(result)["delivered_by_file"] == 2


def test_an_event_in_the_dead_letters_is_counted_there_not_lost() -> None:
    result = DemoResult(published=["t:a", "t:b"], dead_lettered=["t:a"], lost=["t:b"])
    assert (counts(result)["dead_lettered"], counts(result)["lost"]) == (1, 1)
