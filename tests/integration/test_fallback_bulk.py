"""Contacts through the bulk API against the running simulator: applied rows, a failed row, Engage down."""

from __future__ import annotations

from pathlib import Path

from fallback.config import FallbackSettings
from fallback.records import CONTACT_NOT_IN_ENGAGE
from fallback.sweep_lock import MemorySweepLock
from fallback.uploaders import MemoryUploader
from mappers.identity import LookupKey
from relay.ledger import file_clock_ref
from relay.runtime import Runtime
from relay.spill.letters import FileHooks
from relay.spill.sweep import SweepOptions, sweep_tenant
from relay.tenants import Tenant
from tests.support.dead_letters import envelope, fallback_tenant, letter
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import memory_runtime, outcomes_of

BULK_POLL_TIMEOUT_S = 5.0
BULK_POLL_INTERVAL_S = 0.05


def test_bulk_creates_contacts_stores_guids_and_fails_the_bad_row(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given a tenant sending contacts by bulk API, two good new customers and one without the key (e-mail)
    settings = FallbackSettings(local_dir=str(tmp_path / "outbox"), contacts_via="bulk")
    tenant = fallback_tenant(simulator.base_url, simulator.api_key, settings)
    rt = memory_runtime([tenant])
    good = [
        envelope("customer.created", "evt-1", email="one@example.se", contact_type=None),
        envelope("customer.created", "evt-2", email="two@example.se", contact_type=None),
    ]
    bad = envelope("customer.created", "evt-3", email=None, contact_type=None, mobile_phone="+46700000003")
    for raw in [*good, bad]:
        rt.deadletters.add(letter(raw))
    uploader = MemoryUploader()
    # When the sweep runs
    options = SweepOptions(
        uploader_factory=lambda s: uploader,
        hooks=FileHooks(),
        bulk_poll_timeout_s=BULK_POLL_TIMEOUT_S,
        bulk_poll_interval_s=BULK_POLL_INTERVAL_S,
    )
    sweep_tenant(rt, tenant, MemorySweepLock(), options)
    # Then the good rows are in Engage and their GUIDs stored; the bad one failed with Engage's row error
    state = simulator.admin.state()
    by_email = {c["attributes"].get("email"): c["id"] for c in state["contacts"]}
    assert set(by_email) == {"one@example.se", "two@example.se"}
    states = {d.event_id: d for d in rt.deadletters.list()}
    assert states["evt-1"].fallback_state == states["evt-2"].fallback_state == "delivered_by_file"
    assert states["evt-3"].fallback_state == "failed" and "bulk row" in (states["evt-3"].message or "")
    ref = rt.contacts.get(tenant.name, "email", "one@example.se")
    assert ref is not None and ref.contact_id == by_email["one@example.se"]
    delivered = {o.event_id: o for o in outcomes_of(rt) if o.outcome == "delivered_by_file"}
    assert set(delivered) == {"evt-1", "evt-2"}
    assert delivered["evt-1"].contact_id == by_email["one@example.se"]
    # And no file was needed
    assert uploader.files == {}


def test_bulk_falls_back_to_the_contacts_file_when_engage_is_down(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given Engage in an outage and a tenant sending contacts by bulk API
    simulator.admin.set_faults(outage=True)
    settings = FallbackSettings(local_dir=str(tmp_path / "outbox"), contacts_via="bulk")
    tenant = fallback_tenant(simulator.base_url, simulator.api_key, settings)
    rt = memory_runtime([tenant])
    rt.deadletters.add(letter(envelope("customer.created", "evt-1", email="one@example.se")))
    uploader = MemoryUploader()
    # When the sweep runs
    options = SweepOptions(
        uploader_factory=lambda s: uploader,
        hooks=FileHooks(),
        bulk_poll_timeout_s=BULK_POLL_TIMEOUT_S,
        bulk_poll_interval_s=BULK_POLL_INTERVAL_S,
    )
    sweep_tenant(rt, tenant, MemorySweepLock(), options)
    # Then the contact went by contacts XML file instead, and is marked created by file
    assert [p.rsplit("/", 2)[1] for p in uploader.files] == ["contactImport"]
    assert {d.fallback_state for d in rt.deadletters.list()} == {"delivered_by_file"}
    ref = rt.contacts.get(tenant.name, "email", "one@example.se")
    assert ref is not None and ref.pending_file


def _bulk_options(uploader: MemoryUploader) -> SweepOptions:
    return SweepOptions(
        uploader_factory=lambda s: uploader,
        hooks=FileHooks(),
        bulk_poll_timeout_s=BULK_POLL_TIMEOUT_S,
        bulk_poll_interval_s=BULK_POLL_INTERVAL_S,
    )


def _shipped_fallback(simulator: RunningSimulator, tmp_path: Path) -> tuple[Tenant, Runtime]:
    """A tenant with the fallback as shipped (contacts by the bulk API), and its runtime."""
    tenant = fallback_tenant(
        simulator.base_url, simulator.api_key, FallbackSettings(local_dir=str(tmp_path / "outbox"))
    )
    return tenant, memory_runtime([tenant])


def test_an_update_of_a_contact_engage_lacks_goes_by_contacts_file_not_to_failed(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given a tenant with the default fallback (contacts by bulk API) and a spilled update of a customer
    # Engage does not have (its sign-up is still on its way)
    tenant, rt = _shipped_fallback(simulator, tmp_path)
    update = envelope("customer.updated", "evt-u", contact_id=None, email="late@example.se", city="Lund")
    rt.deadletters.add(letter(update))
    uploader = MemoryUploader()
    # When the sweep runs: the bulk row finds no contact
    sweep_tenant(rt, tenant, MemorySweepLock(), _bulk_options(uploader))
    # Then the letter waits for the contacts file, which creates or updates by key; it did not fail
    waiting = rt.deadletters.get(f"{tenant.name}:evt-u")
    assert waiting is not None and waiting.fallback_state == "pending"
    assert waiting.fallback_file == CONTACT_NOT_IN_ENGAGE
    # And the next sweep writes it into a contacts file, with all of its fields and its key
    sweep_tenant(rt, tenant, MemorySweepLock(), _bulk_options(uploader))
    [(path, body)] = uploader.files.items()
    assert path.rsplit("/", 2)[1] == "contactImport"
    assert b"late@example.se" in body and b"Lund" in body
    assert [o.outcome for o in outcomes_of(rt) if o.event_id == "evt-u"] == ["delivered_by_file"]


def test_a_contact_an_import_file_fences_goes_in_the_next_contacts_file_not_by_bulk(
    simulator: RunningSimulator, tmp_path: Path
) -> None:
    # Given a contact whose record is in an import file Engage has not imported yet (the file's fence), and
    # a newer spilled update of it, with contacts going by the bulk API (the default)
    tenant, rt = _shipped_fallback(simulator, tmp_path)
    ref = file_clock_ref([LookupKey("email", "fenced@example.se")])
    assert ref is not None
    rt.fence.raise_for(tenant.name, "20261203101500_1_contacts.xml", [ref])
    update = envelope("customer.updated", "evt-u", contact_id=None, email="fenced@example.se", city="Lund")
    rt.deadletters.add(letter(update))
    uploader = MemoryUploader()
    # When the sweep runs while the fence holds
    sweep_tenant(rt, tenant, MemorySweepLock(), _bulk_options(uploader))
    # Then no bulk batch: the update goes in a contacts file of its own, imported after the one in flight
    assert simulator.admin.state()["bulk_batches"] == []
    [(path, body)] = uploader.files.items()
    assert path.rsplit("/", 2)[1] == "contactImport" and b"Lund" in body
    assert path.rsplit("/", 1)[1] > "20261203101500_1_contacts.xml"
    assert [o.outcome for o in outcomes_of(rt) if o.event_id == "evt-u"] == ["delivered_by_file"]
    # And the file it is in fences the contact in turn
    assert rt.fence.remaining_s(tenant.name, [ref]) > 0


def test_an_unfenced_contact_still_goes_by_bulk(simulator: RunningSimulator, tmp_path: Path) -> None:
    tenant, rt = _shipped_fallback(simulator, tmp_path)
    rt.deadletters.add(letter(envelope("customer.created", "evt-c", email="free@example.se")))
    uploader = MemoryUploader()
    sweep_tenant(rt, tenant, MemorySweepLock(), _bulk_options(uploader))
    [batch] = simulator.admin.state()["bulk_batches"]
    assert batch["operation"] == "create" and uploader.files == {}
