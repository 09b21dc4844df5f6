"""The outbox: sidecars through a crash, upload back-off, refusals, orphans, sub folders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fallback.config import FallbackSettings
from fallback.outbox import REMOTE_SUBDIR_BY_KIND, UPLOAD_REJECTED_RETRY_S, Outbox, remote_subdir_for
from fallback.uploaders import MemoryUploader
from tests.support.xml_records import purchase

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = FallbackSettings()


def outbox(tmp_path: Path, now: datetime = NOW) -> Outbox:
    return Outbox(tmp_path / "box", "acme-se", clock=lambda: now)


def written(box: Outbox) -> str:
    writer = box.new_writer("transactions")
    writer.add(purchase())
    return box.publish(writer, ["acme-se:evt-1"]).name


def test_a_published_file_is_ready_and_described_by_its_sidecar(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    name = written(box)
    (entry,) = box.entries()
    assert entry.name == name and entry.status == "ready" and entry.letter_ids == ["acme-se:evt-1"]
    assert (box.folder / name).is_file() and (box.folder / f".{name}.json").is_file()


def test_recover_promotes_a_published_writing_entry_and_drops_an_unpublished_one(tmp_path: Path) -> None:
    # Given one sidecar whose file was published and one whose writer died before publishing
    box = outbox(tmp_path)
    name = written(box)
    (entry,) = box.entries()
    box.save(entry.model_copy(update={"status": "writing"}))
    lost = entry.model_copy(update={"name": "20261124120000_9_transactions.xml", "status": "writing"})
    box.save(lost)
    # When the outbox recovers
    entries = box.recover()
    # Then the published one is ready and the other is forgotten
    assert [(e.name, e.status) for e in entries] == [(name, "ready")]


def test_unavailable_server_backs_off_on_the_schedule(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    written(box)
    uploader = MemoryUploader()
    uploader.down = True
    result = box.upload_due(uploader, SETTINGS)
    (entry,) = box.entries()
    assert result.unavailable and entry.failures == 1 and entry.next_attempt_at == NOW + timedelta(seconds=30)
    # a second failure waits longer
    later = outbox(tmp_path, NOW + timedelta(seconds=31))
    later.upload_due(uploader, SETTINGS)
    (entry,) = later.entries()
    assert entry.failures == 2 and entry.next_attempt_at == NOW + timedelta(seconds=31 + 60)


def test_a_refusal_is_flagged_and_retried_only_much_later(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    written(box)
    uploader = MemoryUploader()
    uploader.reject = True
    result = box.upload_due(uploader, SETTINGS)
    (entry,) = box.entries()
    assert result.rejected and entry.rejected
    assert entry.next_attempt_at == NOW + timedelta(seconds=UPLOAD_REJECTED_RETRY_S)


def test_a_verified_upload_marks_the_entry_and_keeps_the_file_until_finish(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    name = written(box)
    uploader = MemoryUploader()
    result = box.upload_due(uploader, SETTINGS)
    (entry,) = result.uploaded
    assert entry.status == "uploaded" and entry.remote_path == f"/memory/transactionImport/{name}"
    assert (box.folder / name).is_file()
    box.finish(entry)
    assert list(box.folder.iterdir()) == []


def test_a_file_without_a_sidecar_is_an_orphan_and_never_uploaded(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    box.folder.mkdir(parents=True)
    (box.folder / "20261124120000_7_transactions.xml").write_text("<x/>")
    assert box.orphans() == ["20261124120000_7_transactions.xml"]
    assert box.upload_due(MemoryUploader(), SETTINGS).uploaded == []


def test_sub_folders_default_per_kind_and_follow_the_tenant() -> None:
    assert remote_subdir_for(SETTINGS, "transactions") == REMOTE_SUBDIR_BY_KIND["transactions"]
    custom = FallbackSettings(remote_subdirs={"contacts": ""})
    assert remote_subdir_for(custom, "contacts") == ""
    assert remote_subdir_for(custom, "transactions") == "transactionImport"
