"""The demo's parts that need no stack: its sample data, its tenants file, and its process groups."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from relay.outcomes import Outcome
from relay.tenants_file import load_tenants_file
from schemas.parsing import InvalidEvent, parse_event
from simulator.tenancy import key_id
from workers.demo.data import INVALID_EVENT_ID, demo_waves, simulator_seed
from workers.demo.processes import Supervisor, group_alive, stop_leftovers
from workers.demo.report import counts, summary_line
from workers.demo.run import DemoResult
from workers.demo.stack import FTP_PASSWORD_ENV_FOR_TENANTS, TENANT_KEY_ENV, tenants_toml

# a parent that leaves a grandchild behind in its own process group
PARENT_WITH_GRANDCHILD = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"


def test_every_demo_event_is_valid_but_the_one_broken_on_purpose() -> None:
    # Given the demo's waves
    envelopes = [e for wave in demo_waves() for e in wave]
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


def test_the_demo_tenants_file_loads_with_keys_and_ftp_password_from_the_environment(tmp_path: Path) -> None:
    # Given the demo tenants file for a simulator and an FTP drop
    path = tmp_path / "tenants.toml"
    keys = {tenant: f"key-{n}" for n, tenant in enumerate(TENANT_KEY_ENV)}
    path.write_text(tenants_toml("http://127.0.0.1:8080", 2121, tmp_path / "outbox", keys), encoding="utf-8")
    env = {TENANT_KEY_ENV[tenant]: key for tenant, key in keys.items()}
    env[FTP_PASSWORD_ENV_FOR_TENANTS] = "ftp-secret"
    # When it is loaded the way every relay process loads it
    registry = load_tenants_file(path, env)
    # Then both tenants call the simulator, and their dead letters go to the FTP drop
    assert registry.names() == sorted(TENANT_KEY_ENV)
    for tenant in registry:
        assert tenant.base_url == "http://127.0.0.1:8080"
        assert (tenant.fallback.transport, tenant.fallback.port) == ("ftp", 2121)
        assert tenant.fallback.password is not None
        assert tenant.fallback.password.get_secret_value() == "ftp-secret"
        # each in the folder the simulator imports for its own key (no key in the path)
        assert tenant.fallback.remote_dir == f"/tenants/{key_id(keys[tenant.name])}"
    assert "ftp-secret" not in path.read_text(encoding="utf-8")
    assert not any(key in path.read_text(encoding="utf-8") for key in keys.values())


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
