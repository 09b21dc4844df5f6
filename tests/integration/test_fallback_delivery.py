"""The fallback path end to end: dead letters -> bulk API or XML files -> a real FTP/SFTP server whose folder
is the simulator's import folder -> the simulator's state; then the next event looks the new contact up."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fallback.config import FallbackSettings
from fallback.sweep_lock import MemorySweepLock
from fallback.uploaders import UPLOAD_RETRY_SCHEDULE_S, Uploader, uploader_for
from relay.handlers import PURCHASE
from relay.runtime import Runtime
from relay.spill.letters import FileHooks
from relay.spill.sweep import SweepOptions, SweepReport, sweep_tenant
from relay.tenants import Tenant
from tests.support.dead_letters import envelope, fallback_tenant, letter, receipt
from tests.support.file_servers import FileServer, FtpServer, SftpServer
from tests.support.simulator import RunningSimulator, start_simulator
from tests.support.task_harness import installed, memory_runtime, outcomes_of, run_until_final

pytestmark = pytest.mark.integration

IMPORT_WAIT_S = 5.0
NEW_EMAIL = "anna.lindqvist@example.se"


def wait_for(predicate: Any, timeout_s: float = IMPORT_WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


class Relay:
    """A memory runtime for one tenant whose files go to `server`, swept with a real uploader."""

    def __init__(
        self,
        sim: RunningSimulator,
        server: FileServer,
        local_dir: Path,
        remote_dir: str,
        contacts_via: str | None = "xml",
    ) -> None:
        self.server = server
        self.remote_dir = remote_dir
        # the default remote sub-folders (transactionImport, contactImport), which the simulator watches;
        # contacts as XML files (the file path is what this test is about; the bulk default is below)
        changes: dict[str, str] = {"local_dir": str(local_dir)}
        if contacts_via is not None:  # None: the shipped default
            changes["contacts_via"] = contacts_via
        settings = server.settings(remote_dir).model_copy(update=changes)
        self.tenant: Tenant = fallback_tenant(
            sim.base_url, sim.api_key, FallbackSettings(**settings.model_dump())
        )
        self.rt: Runtime = memory_runtime([self.tenant])
        self.lock = MemorySweepLock()
        self.now = datetime.now(UTC)

    def uploader(self, settings: FallbackSettings) -> Uploader:
        return uploader_for(self.server.target(self.remote_dir))

    def sweep(self) -> SweepReport:
        options = SweepOptions(uploader_factory=self.uploader, hooks=FileHooks(), clock=lambda: self.now)
        return sweep_tenant(self.rt, self.tenant, self.lock, options)

    def states(self) -> dict[str, str]:
        return {d.event_id: d.fallback_state for d in self.rt.deadletters.list()}


def _check_delivery(sim: RunningSimulator, relay: Relay) -> None:
    # Given a dead-lettered new customer and her purchase (by e-mail)
    relay.rt.deadletters.add(letter(envelope("customer.created", "evt-c1", contact_type="Member")))
    relay.rt.deadletters.add(letter(receipt("evt-r1", "r-1", email=NEW_EMAIL)))
    # When the sweep runs
    report = relay.sweep()
    # Then both files were uploaded and the simulator imported the contact, then the receipt
    assert len(report.files_uploaded) == 2, report
    wait_for(lambda: len(sim.admin.state()["imports"]) == 2)
    state = sim.admin.state()
    assert [i["kind"] for i in state["imports"]] == ["contacts", "transactions"]
    (contact,) = state["contacts"]
    assert [r["uniqueReceiptId"] for r in state["receipts"]] == ["receipt-r-1"]
    assert state["receipts"][0]["contactId"] == contact["id"] and state["receipts"][0]["via"] == "import"
    # And the outcomes say delivered_by_file
    assert {o.event_id for o in outcomes_of(relay.rt) if o.outcome == "delivered_by_file"} == {
        "evt-c1",
        "evt-r1",
    }
    # When the next event about her arrives through the API path
    with installed(relay.rt):
        result, _ = run_until_final(receipt("evt-r2", "r-2", email=NEW_EMAIL), PURCHASE)
    # Then her GUID was looked up (not created again) and stored
    assert result["outcome"] == "applied" and result["contact_id"] == contact["id"]
    assert result["calls"] == ["contacts.lookup", "receipts.create"]
    ref = relay.rt.contacts.get(relay.tenant.name, "email", NEW_EMAIL)
    assert ref is not None and ref.contact_id == contact["id"]


def test_ftp_delivery_reaches_the_simulator(
    simulator: RunningSimulator, ftp_into_import_dir: FtpServer, tmp_path: Path
) -> None:
    relay = Relay(simulator, ftp_into_import_dir, tmp_path / "outbox", "/")
    _check_delivery(simulator, relay)


def test_with_default_settings_contacts_go_by_bulk_and_receipts_by_file(
    simulator: RunningSimulator, ftp_into_import_dir: FtpServer, tmp_path: Path
) -> None:
    # Given a tenant with the default contacts channel (the bulk API), a dead-lettered new customer and
    # her purchase
    relay = Relay(simulator, ftp_into_import_dir, tmp_path / "outbox", "/", contacts_via=None)
    relay.rt.deadletters.add(letter(envelope("customer.created", "evt-c1", contact_type="Member")))
    relay.rt.deadletters.add(letter(receipt("evt-r1", "r-1", email=NEW_EMAIL)))
    # When the sweep runs
    report = relay.sweep()
    # Then the contact went by the bulk API and the receipt by a transactions file, imported after it
    assert [n.rsplit("_", 1)[-1] for n in report.files_uploaded] == ["transactions.xml"], report
    wait_for(lambda: len(simulator.admin.state()["receipts"]) == 1)
    state = simulator.admin.state()
    (contact,) = state["contacts"]
    assert state["receipts"][0]["contactId"] == contact["id"]
    assert {o.event_id: o.outcome for o in outcomes_of(relay.rt)} == {
        "evt-c1": "delivered_by_file",
        "evt-r1": "delivered_by_file",
    }


def test_file_server_down_keeps_the_file_and_delivers_when_back(
    simulator: RunningSimulator, ftp_into_import_dir: FtpServer, tmp_path: Path
) -> None:
    # Given a dead-lettered receipt for a known member, and the FTP server down
    simulator.admin.seed({"contacts": [{"email": "known@example.se", "firstName": "K"}]})
    relay = Relay(simulator, ftp_into_import_dir, tmp_path / "outbox", "/")
    relay.rt.deadletters.add(letter(receipt("evt-r1", "r-1", email="known@example.se")))
    ftp_into_import_dir.stop()
    # When the sweep runs
    report = relay.sweep()
    # Then the file is kept in the outbox for a later attempt
    assert report.upload_error and relay.states() == {"evt-r1": "written"}
    kept = sorted(
        p.name.rsplit("_", 1)[-1] for p in (tmp_path / "outbox").iterdir() if not p.name.startswith(".")
    )
    assert kept == ["contacts.xml", "transactions.xml"]  # the buyer goes ahead of their receipt
    # When the server is back and the attempt is due
    ftp_into_import_dir.start()
    relay.sweep()  # not yet due: nothing happens
    assert relay.states() == {"evt-r1": "written"}
    relay.now += timedelta(seconds=UPLOAD_RETRY_SCHEDULE_S[0] + 1)
    report = relay.sweep()
    # Then it is delivered and imported
    assert relay.states() == {"evt-r1": "delivered_by_file"}, report
    wait_for(lambda: len(simulator.admin.state()["receipts"]) == 1)


def test_sftp_delivery_reaches_the_simulator(sftp: SftpServer, tmp_path: Path) -> None:
    # a simulator of its own, watching a folder inside the SFTP chroot that the SFTP user may write
    with start_simulator(sftp.root / "integration") as sim:
        os.chown(sim.import_dir, sftp.user.pw_uid, sftp.user.pw_gid)
        relay = Relay(sim, sftp, tmp_path / "outbox", "/integration/import")
        _check_delivery(sim, relay)
