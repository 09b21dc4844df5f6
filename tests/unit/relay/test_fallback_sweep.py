"""The fallback sweep with twins: memory runtime, memory dead-letter store, MemoryUploader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetter
from fallback.outbox import Outbox, OutboxEntry
from fallback.sweep_lock import MemorySweepLock
from fallback.uploaders import MemoryUploader
from fallback.xmlfiles import XmlBatchWriter, validate_file
from relay.runtime import Runtime
from relay.spill.sweep import SweepOptions, SweepReport, sweep_tenant
from relay.tenants import Tenant
from tests.support.dead_letters import envelope, fallback_tenant, letter, receipt
from tests.support.task_harness import memory_runtime, outcomes_of

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NS = {"t": "http://voyado.Schemas.ImportReceipts", "c": "http://eClub.Schemas.ImportContact"}
KNOWN_GUID = "11111111-2222-4333-8444-555555555555"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Sweeper:
    """A tenant with a tmp outbox, a memory runtime and a MemoryUploader; `run()` sweeps once."""

    def __init__(self, tmp_path: Path, **fallback: Any) -> None:
        self.outbox_dir = tmp_path / "outbox"
        settings = FallbackSettings(local_dir=str(self.outbox_dir), **fallback)
        self.tenant: Tenant = fallback_tenant("http://127.0.0.1:9", "key-1", settings)
        self.rt: Runtime = memory_runtime([self.tenant])
        self.uploader = MemoryUploader()
        self.clock = Clock()
        self.lock = MemorySweepLock()
        self.max_records = 20_000
        self.uploaded: list[tuple[str, str]] = []

    def add(self, *raws: dict[str, Any]) -> list[DeadLetter]:
        letters = [letter(raw) for raw in raws]
        for item in letters:
            self.rt.deadletters.add(item)
        return letters

    def options(self) -> SweepOptions:
        from relay.spill.letters import FileHooks

        return SweepOptions(
            max_records_per_file=self.max_records,
            clock=self.clock,
            uploader_factory=lambda settings: self.uploader,
            hooks=FileHooks(uploaded=lambda tenant, kind: self.uploaded.append((tenant, kind))),
        )

    def run(self) -> SweepReport:
        return sweep_tenant(self.rt, self.tenant, self.lock, self.options())

    def states(self) -> dict[str, str]:
        return {d.event_id: d.fallback_state for d in self.rt.deadletters.list()}

    def remote(self, subdir: str) -> dict[str, bytes]:
        prefix = f"/memory/{subdir}/"
        return {k[len(prefix) :]: v for k, v in self.uploader.files.items() if k.startswith(prefix)}


@pytest.fixture
def sweeper(tmp_path: Path) -> Iterator[Sweeper]:
    yield Sweeper(tmp_path)


def receipts_in(data: bytes) -> list[etree._Element]:
    return list(etree.fromstring(data).iterfind("t:receipt", NS))


def test_receipts_go_by_file_one_match_key_type_per_file(sweeper: Sweeper) -> None:
    # Given two dead-lettered receipts: one buyer's GUID is known, the other is known by member number only
    sweeper.rt.contacts.put(sweeper.tenant.name, "email", "known@example.se", KNOWN_GUID)
    sweeper.add(
        receipt("evt-1", "r-1", email="known@example.se"),
        receipt("evt-2", "r-2", member_number="100200300"),
    )
    # When the sweep runs
    report = sweeper.run()
    # Then two transaction files went up, one per matchKeyType, and both events were delivered by file
    files = sweeper.remote("transactionImport")
    assert len(files) == 2 and set(files) <= set(report.files_uploaded)
    kinds = {}
    for data in files.values():
        (element,) = receipts_in(data)
        kinds[element.findtext("t:contact/t:matchKeyType", namespaces=NS)] = element.findtext(
            "t:contact/t:matchKey", namespaces=NS
        )
    assert kinds == {"contactId": KNOWN_GUID, "memberNumber": "100200300"}
    assert sweeper.states() == {"evt-1": "delivered_by_file", "evt-2": "delivered_by_file"}
    delivered = [o for o in outcomes_of(sweeper.rt) if o.outcome == "delivered_by_file"]
    assert sorted(o.event_id for o in delivered) == ["evt-1", "evt-2"]
    # and the buyer known by member number only went ahead of the receipts, in a contacts file
    assert sweeper.uploaded == [("acme-se", "contacts")] + [("acme-se", "transactions")] * 2
    (contacts,) = sweeper.remote("contactImport").values()
    assert b"<memberNumber>100200300</memberNumber>" in contacts
    assert b"known@example.se" not in contacts
    assert list(sweeper.outbox_dir.iterdir()) == []


def test_files_rotate_at_the_record_cap(sweeper: Sweeper, tmp_path: Path) -> None:
    # Given five receipts and a cap of two records a file
    sweeper.max_records = 2
    sweeper.add(*(receipt(f"evt-{i}", f"r-{i}") for i in range(5)))
    # When the sweep runs
    sweeper.run()
    # Then three valid files hold the five receipts, each once
    files = sweeper.remote("transactionImport")
    assert sorted(len(receipts_in(d)) for d in files.values()) == [1, 2, 2]
    ids: list[str] = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert validate_file(path, "transactions") == []
        ids += [e.findtext("t:uniqueReceiptId", namespaces=NS) or "" for e in receipts_in(data)]
    assert sorted(ids) == [f"receipt-r-{i}" for i in range(5)]
    assert set(sweeper.states().values()) == {"delivered_by_file"}


def test_types_without_a_file_channel_are_not_applicable(sweeper: Sweeper) -> None:
    # Given an assignment and a product view in the dead letters
    sweeper.add(envelope("promotion.assigned", "evt-a"), envelope("product.viewed", "evt-v"))
    # When the sweep runs
    report = sweeper.run()
    # Then they stay as dead letters marked not_applicable (for replay), and no file is written
    assert sweeper.states() == {"evt-a": "not_applicable", "evt-v": "not_applicable"}
    assert report.not_applicable == 2 and sweeper.uploader.files == {}
    assert all("dlq replay" in (d.message or "") for d in sweeper.rt.deadletters.list())


def test_redemptions_wait_for_the_api_by_default(sweeper: Sweeper) -> None:
    # Given a promotion and a voucher redemption, and a tenant with default settings
    sweeper.add(envelope("promotion.redeemed", "evt-p"), envelope("voucher.redeemed", "evt-v"))
    # When the sweep runs
    sweeper.run()
    # Then no file is written: Voyado reads no redemptions file, so they are never "delivered by file"
    assert sweeper.remote("promotionRedemptionImport") == {}
    assert set(sweeper.states().values()) == {"not_applicable"}


def test_redemptions_go_in_the_redemptions_file_when_the_tenant_agreed_it(tmp_path: Path) -> None:
    # Given a tenant that agreed the redemptions format with Voyado, a promotion and a voucher redemption
    sweeper = Sweeper(tmp_path, redemptions_by_file=True)
    sweeper.add(envelope("promotion.redeemed", "evt-p"), envelope("voucher.redeemed", "evt-v"))
    # When the sweep runs
    sweeper.run()
    # Then one redemptions file holds both
    (data,) = sweeper.remote("promotionRedemptionImport").values()
    root = etree.fromstring(data)
    assert [etree.QName(e).localname for e in root] == ["promotionRedemption", "rewardVoucherRedemption"]
    assert set(sweeper.states().values()) == {"delivered_by_file"}


def test_contacts_file_marks_new_contacts_created_by_file(sweeper: Sweeper) -> None:
    # Given a new customer and an update of a customer whose GUID is known
    sweeper.rt.contacts.put(sweeper.tenant.name, "email", "known@example.se", KNOWN_GUID)
    sweeper.add(
        envelope("customer.created", "evt-new"),
        envelope("customer.updated", "evt-upd", email="known@example.se", contact_id=None),
    )
    # When the sweep runs
    sweeper.run()
    # Then both go in one contacts file, the known one by contactId
    (data,) = sweeper.remote("contactImport").values()
    contacts = list(etree.fromstring(data).iterfind("c:new/c:member", NS))
    assert [c.findtext("c:contactId", namespaces=NS) for c in contacts] == [None, KNOWN_GUID]
    # And the new contact's keys say "created by file", the known one keeps its GUID
    store, name = sweeper.rt.contacts, sweeper.tenant.name
    new_ref = store.get(name, "email", "anna.lindqvist@example.se")
    assert new_ref is not None and new_ref.pending_file
    known_ref = store.get(name, "email", "known@example.se")
    assert known_ref is not None and known_ref.contact_id == KNOWN_GUID


def test_server_down_keeps_the_file_and_retries_on_the_schedule(sweeper: Sweeper) -> None:
    # Given a receipt and a file server that is down
    sweeper.add(receipt("evt-1", "r-1"))
    sweeper.uploader.down = True
    # When the sweep runs
    report = sweeper.run()
    # Then the file stays in the outbox, the letter is written, and the next attempt is 30 s away
    (entry,) = [e for e in Outbox(sweeper.outbox_dir, "acme-se").entries() if e.kind == "transactions"]
    assert report.upload_error and entry.failures == 1
    assert entry.next_attempt_at == START + timedelta(seconds=30)
    assert sweeper.states() == {"evt-1": "written"}
    # When the server is back but the attempt is not yet due, nothing is tried
    sweeper.uploader.down = False
    sweeper.clock.now = START + timedelta(seconds=10)
    sweeper.run()
    assert sweeper.uploader.files == {}
    # When it is due, the file is delivered and leaves the outbox
    sweeper.clock.now = START + timedelta(seconds=31)
    sweeper.run()
    assert len(sweeper.remote("transactionImport")) == 1
    assert sweeper.states() == {"evt-1": "delivered_by_file"}
    assert Outbox(sweeper.outbox_dir, "acme-se").entries() == []


def test_a_refused_upload_keeps_the_file_and_flags_it(sweeper: Sweeper) -> None:
    # Given a file server that refuses our login
    sweeper.add(receipt("evt-1", "r-1"))
    sweeper.uploader.reject = True
    # When the sweep runs
    report = sweeper.run()
    # Then the file is kept, flagged rejected with the error, and the letter waits as written
    (entry,) = [e for e in Outbox(sweeper.outbox_dir, "acme-se").entries() if e.kind == "transactions"]
    assert entry.rejected and "login incorrect" in (entry.last_error or "")
    assert report.upload_error is not None
    assert sweeper.states() == {"evt-1": "written"}


class CrashAfterPublish(Exception):
    pass


def test_a_crash_after_writing_before_marking_loses_nothing_and_sends_once(
    sweeper: Sweeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given receipts, and a process that dies right after publishing the file
    sweeper.add(receipt("evt-1", "r-1"), receipt("evt-2", "r-2"))
    original = Outbox.publish

    def publish_then_crash(self: Outbox, writer: XmlBatchWriter, letter_ids: list[str]) -> OutboxEntry:
        original(self, writer, letter_ids)
        raise CrashAfterPublish

    monkeypatch.setattr(Outbox, "publish", publish_then_crash)
    with pytest.raises(CrashAfterPublish):
        sweeper.run()
    assert sweeper.states() == {"evt-1": "pending", "evt-2": "pending"}
    # When a new sweep runs after the restart
    monkeypatch.setattr(Outbox, "publish", original)
    sweeper.run()
    # Then the file written before the crash is uploaded, no second one is written, both are delivered
    (data,) = sweeper.remote("transactionImport").values()
    assert len(receipts_in(data)) == 2
    assert sweeper.states() == {"evt-1": "delivered_by_file", "evt-2": "delivered_by_file"}
    assert sorted(o.event_id for o in outcomes_of(sweeper.rt) if o.outcome == "delivered_by_file") == [
        "evt-1",
        "evt-2",
    ]


def test_a_crash_after_upload_before_recording_finishes_without_a_second_upload(
    sweeper: Sweeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sweep that dies after the verified upload, while recording the first outcome
    sweeper.add(receipt("evt-1", "r-1"))
    sink = sweeper.rt.outcomes
    original = type(sink).record
    calls = {"n": 0}

    def record_or_crash(self: Any, outcome: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise CrashAfterPublish
        original(self, outcome)

    monkeypatch.setattr(type(sink), "record", record_or_crash)
    with pytest.raises(CrashAfterPublish):
        sweeper.run()
    connects = sweeper.uploader.connects
    # When the next sweep runs
    sweeper.run()
    # Then the letter is delivered, recorded once, and the file was not sent again
    assert sweeper.states() == {"evt-1": "delivered_by_file"}
    assert [o.event_id for o in outcomes_of(sweeper.rt) if o.outcome == "delivered_by_file"] == ["evt-1"]
    assert sweeper.uploader.connects == connects
    assert list(sweeper.outbox_dir.iterdir()) == []


def test_only_one_sweeper_per_tenant(sweeper: Sweeper) -> None:
    # Given another sweeper holding the tenant
    with sweeper.lock.held("acme-se") as mine:
        assert mine
        sweeper.add(receipt("evt-1", "r-1"))
        # When a sweep starts
        report = sweeper.run()
    # Then it returns at once and touches nothing
    assert report.busy and sweeper.states() == {"evt-1": "pending"}


def test_transport_none_keeps_file_bound_letters_pending(tmp_path: Path) -> None:
    # Given a tenant without any file transport
    sweeper = Sweeper(tmp_path, transport="none")
    sweeper.add(receipt("evt-1", "r-1"))
    # When the sweep runs
    sweeper.run()
    # Then the letter waits, pending, and no file exists
    assert sweeper.states() == {"evt-1": "pending"}
    assert not sweeper.outbox_dir.exists() or list(sweeper.outbox_dir.iterdir()) == []


def test_sub_folders_follow_the_tenant_setting(tmp_path: Path) -> None:
    # Given a tenant that uploads transactions into the remote folder itself
    sweeper = Sweeper(tmp_path, remote_subdirs={"transactions": ""})
    sweeper.add(receipt("evt-1", "r-1"))
    # When the sweep runs
    sweeper.run()
    # Then the file sits directly in the remote folder
    (path,) = [name for name in sweeper.uploader.files if name.endswith("_transactions.xml")]
    assert path.count("/") == 2 and path.startswith("/memory/") and path.endswith("_transactions.xml")


def test_the_file_path_never_sends_a_value_older_than_what_the_api_sent(sweeper: Sweeper) -> None:
    # Given the API path wrote the street of a known contact at 10:00
    tenant = sweeper.tenant.name
    newer = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    sweeper.rt.ledger.record_fields(tenant, KNOWN_GUID, {"street": "Nygatan 1"}, newer)
    # and two dead-lettered updates of that contact from the day before: one changes the street and the
    # city, the other only the street
    both = envelope("customer.updated", "evt-both")
    both["data"] = {"contact_id": KNOWN_GUID, "street": "Gamla 2", "city": "Lund"}
    street = envelope("customer.updated", "evt-street")
    street["data"] = {"contact_id": KNOWN_GUID, "street": "Gamla 3"}
    sweeper.add(both, street)
    # When the sweep runs
    sweeper.run()
    # Then the file carries the city only, and the update with nothing newer left is superseded, unwritten
    (data,) = sweeper.remote("contactImport").values()
    (member,) = etree.fromstring(data).iter("{http://eClub.Schemas.ImportContact}member")
    texts = {el.tag.split("}")[-1]: el.text for el in member}
    assert texts.get("city") == "Lund" and "street" not in texts
    assert sweeper.states() == {"evt-both": "delivered_by_file", "evt-street": "superseded"}
    finals = {o.event_id: o.outcome for o in outcomes_of(sweeper.rt)}
    assert finals == {"evt-both": "delivered_by_file", "evt-street": "superseded"}
    # and the clock now says the city came by file
    assert "city" in sweeper.rt.ledger.field_clock(tenant, KNOWN_GUID)


def test_an_older_api_update_after_a_newer_file_update_of_an_unknown_contact_is_cut(
    sweeper: Sweeper,
) -> None:
    """The file path writes a newer city for a contact whose GUID it does not know (by its e-mail); the
    API path then learns the GUID and must not send an older city over it."""
    from relay import handlers
    from tests.support.task_harness import installed, run_event
    from tests.unit.engage.fake_transport import FakeTransport, session_with

    newer = envelope("customer.updated", "evt-newer", occurred_at="2026-11-27T10:00:00+01:00")
    newer["occurred_at"] = "2026-11-27T10:00:00+01:00"
    newer["data"] = {"email": "new@example.se", "city": "Lund"}
    sweeper.add(newer)
    sweeper.run()
    # When the older update comes by the API, after the contact exists in Engage
    older = envelope("customer.updated", "evt-older")
    older["occurred_at"] = "2026-11-26T10:00:00+01:00"
    older["data"] = {"email": "new@example.se", "city": "Malmö", "street": "Gata 1"}
    engage = FakeTransport()
    engage.reply(200, f'"{KNOWN_GUID}"'.encode(), {"Content-Type": "application/json"})
    engage.reply(200, {"id": KNOWN_GUID, "attributes": {}})
    sweeper.rt.session = session_with(engage)
    sweeper.rt._clients.clear()  # clients made during the sweep hold the old session
    sweeper.rt.fence.uploaded(sweeper.tenant.name, "any", 0)
    with installed(sweeper.rt):
        sweeper.rt.fence = type(sweeper.rt.fence)()  # the file was imported and its grace is over
        result = run_event(older, handlers.CUSTOMER)
    # Then only the street is sent: the city is older than what the file carried
    trail = sweeper.rt.trail.read(sweeper.tenant.name, "evt-older")
    assert result["outcome"] == "applied", (result, [s.url for s in engage.sent], trail)
    assert engage.sent[-1].method == "PATCH" and engage.sent[-1].json() == {"street": "Gata 1"}
