"""Migration against the real simulator (bulk API, XML import folder) and a real FTP server."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engage.client import EngageClient
from engage.ratelimit import MemoryRateLimiter
from fallback.checkpoint import Checkpoint
from fallback.uploaders import uploader_for
from migration.jobs import MigrationSpec, Services, run_migration
from migration.runner import SaveStage
from tests.support.file_servers import ftp_server
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator
from tests.unit.migration.test_migrate_helpers import (
    NOW,
    contacts_csv,
    rejects_lines,
    sale,
    tenant,
    write_ndjson,
)
from workers.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ROWS = 23
BAD_ROWS = (4, 17)
BATCH = 5


class Interrupt(Exception):
    """Stands in for Ctrl-C / kill in the middle of a run."""


def interrupt_after(count: int, stage: SaveStage) -> Any:
    seen = {"n": 0}

    def hook(at: SaveStage, checkpoint: Checkpoint) -> None:
        del checkpoint
        if at == stage:
            seen["n"] += 1
            if seen["n"] == count:
                raise Interrupt

    return hook


def client_for(simulator: RunningSimulator) -> EngageClient:
    return EngageClient(simulator.base_url, simulator.api_key, rate_limiter=MemoryRateLimiter(40.0))


def test_bulk_contacts_resume_after_interruptions_without_sending_a_batch_twice(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given 23 CSV contacts, two of them with a bad e-mail, sent in bulk batches of 5
    source = contacts_csv(tmp_path / "contacts.csv", ROWS, bad_at=BAD_ROWS)
    spec = MigrationSpec(
        kind="contacts",
        input_path=source,
        tenant=tenant(simulator.base_url, simulator.api_key),
        out=tmp_path / "out",
        via="bulk",
        batch_size=BATCH,
    )
    services = Services(client=client_for(simulator))
    # When the run is interrupted after its second batch is polled, then right after a batch is sent
    with pytest.raises(Interrupt):
        run_migration(spec, services, hook=interrupt_after(2, "finished"))
    with pytest.raises(Interrupt):
        run_migration(spec, services, hook=interrupt_after(1, "closed"))
    result = run_migration(spec, services)
    # Then every good contact is in Engage, and no batch was sent twice
    state = simulator.admin.state()
    good = ROWS - len(BAD_ROWS)
    emails = sorted(c["attributes"]["email"] for c in state["contacts"])
    assert emails == sorted(f"person{i}@example.com" for i in range(1, ROWS + 1) if i not in BAD_ROWS)
    assert len(state["bulk_batches"]) == math.ceil(good / BATCH) == result.counters["batches"]
    assert sum(b["total"] for b in state["bulk_batches"]) == good
    assert all(b["failed"] == 0 for b in state["bulk_batches"])
    assert (result.counters["sent"], result.counters["rejected"], result.counters["failed"]) == (good, 2, 0)
    assert rejects_lines(tmp_path / "out" / "rejects.ndjson") == [i + 1 for i in BAD_ROWS]


def test_rows_engage_refuses_in_bulk_go_to_the_rejects_file(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given a contact that already exists in Engage
    simulator.admin.seed({"contacts": [{"email": "person2@example.com", "firstName": "Old"}]})
    source = contacts_csv(tmp_path / "contacts.csv", 3)
    spec = MigrationSpec(
        kind="contacts",
        input_path=source,
        tenant=tenant(simulator.base_url, simulator.api_key),
        out=tmp_path / "out",
    )
    # When migrated in bulk
    result = run_migration(spec, Services(client=client_for(simulator)))
    # Then its row is reported as refused, with its line number and Engage's code
    assert (result.counters["sent"], result.counters["failed"]) == (3, 1)
    entry = json.loads((tmp_path / "out" / "rejects.ndjson").read_text(encoding="utf-8"))
    assert entry["line"] == 3 and entry["stage"] == "engage"
    assert entry["reasons"][0].startswith("ApprovedContactWithKeyExists")


def test_receipts_uploaded_over_ftp_are_applied_by_the_simulator(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given contacts in Engage, and an FTP server whose root is the simulator's import folder
    simulator.admin.seed({"contacts": [{"email": f"person{i}@example.com"} for i in range(1, 6)]})
    workdir = tmp_path / "ftp"
    workdir.mkdir()
    (workdir / "home").symlink_to(simulator.import_dir)
    rows: list[Any] = [sale(i) for i in range(1, 6)]
    rows.append(sale(6, created_at="2023-01-01T00:00:00+00:00"))  # older than 24 months
    source = write_ndjson(tmp_path / "sales.ndjson", rows)
    with ftp_server(workdir) as server:
        spec = MigrationSpec(
            kind="receipts",
            input_path=source,
            tenant=tenant(simulator.base_url, simulator.api_key, fallback=server.settings("/")),
            out=tmp_path / "out",
            rows_per_file=2,
            remote_subdir="",
        )
        # When migrated with files uploaded to it
        result = run_migration(spec, Services(uploader=uploader_for(server.target("/")), clock=lambda: NOW))
        # Then the simulator imports every file and stores every recent receipt
        assert (result.counters["files"], result.counters["uploaded"], result.counters["skipped_old"]) == (
            3,
            3,
            1,
        )
        wait_until(lambda: len(simulator.admin.state()["imports"]) == 3, what="3 imports")
    state = simulator.admin.state()
    assert sorted(r["uniqueReceiptId"] for r in state["receipts"]) == [f"receipt-r-{i}" for i in range(1, 6)]
    assert all(entry["errors"] == [] for entry in state["imports"])


def test_cli_migrates_contacts_and_a_rerun_finds_the_work_done(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given the default tenant pointing at the simulator, and no Redis reachable (memory rate limiter)
    source = contacts_csv(tmp_path / "contacts.csv", 4)
    env: dict[str, str | None] = {
        "ENGAGE_BASE_URL": simulator.base_url,
        "ENGAGE_API_KEY": simulator.api_key,
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "ENGAGE_RELAY_DATA_DIR": str(tmp_path / "var"),
        "ENGAGE_RELAY_TENANTS_FILE": None,
        "ENGAGE_RELAY_SECRET_KEY": None,
    }
    args = ["migrate", "contacts", str(source), "--tenant", "default", "--out", str(tmp_path / "out")]
    runner = CliRunner()
    # When run twice
    first = runner.invoke(main, args, env=env)
    second = runner.invoke(main, args, env=env)
    # Then the first sends the contacts and prints a summary, the second does nothing
    assert first.exit_code == 0, first.output
    assert "rows sent in bulk: 4 in 1 batch(es)" in first.output
    assert "already complete" in second.output
    assert len(simulator.admin.state()["bulk_batches"]) == 1
    assert simulator.api_key not in first.output + second.output
