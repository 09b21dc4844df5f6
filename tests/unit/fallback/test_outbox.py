"""The outbox: sidecars through a crash, upload back-off, refusals, orphans, sub folders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fallback.config import FallbackSettings
from fallback.file_sequence import FileSequence, MemoryFileSequence
from fallback.outbox import (
    MAX_NAMES_PER_FILE,
    REMOTE_SUBDIR_BY_KIND,
    UPLOAD_REJECTED_RETRY_S,
    Outbox,
    remote_subdir_for,
)
from fallback.uploaders import MemoryUploader
from fallback.xmlfiles.naming import FileKind, parse_file_name
from tests.support.xml_records import contact_full, purchase

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SETTINGS = FallbackSettings()


def outbox(tmp_path: Path, now: datetime = NOW, sequence: FileSequence | None = None) -> Outbox:
    return Outbox(tmp_path / "box", "acme-se", clock=lambda: now, sequence=sequence or MemoryFileSequence())


def written(box: Outbox, receipt_id: str = "r-1001") -> str:
    writer = box.new_writer("transactions")
    writer.add(purchase(receipt_id))
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


def test_a_due_file_takes_the_files_written_before_it_along_oldest_first(tmp_path: Path) -> None:
    # Given a file backing off after the server was down, and a newer file written 10 s later
    box = outbox(tmp_path)
    older = written(box, "r-1")
    uploader = MemoryUploader()
    uploader.down = True
    box.upload_due(uploader, SETTINGS)
    later = outbox(tmp_path, NOW + timedelta(seconds=10))
    newer = written(later, "r-2")
    assert newer > older
    # When the server is back and the newer file is due (the older one not yet)
    uploader.down = False
    result = later.upload_due(uploader, SETTINGS)
    # Then both go, the older first: Engage imports in name order, an older file must never come last
    assert [e.name for e in result.uploaded] == [older, newer]
    assert [p.rsplit("/", 1)[1] for p in uploader.files] == [older, newer]


def test_a_file_backing_off_alone_waits_for_its_time(tmp_path: Path) -> None:
    box = outbox(tmp_path)
    written(box)
    uploader = MemoryUploader()
    uploader.down = True
    box.upload_due(uploader, SETTINGS)
    uploader.down = False
    assert outbox(tmp_path, NOW + timedelta(seconds=10)).upload_due(uploader, SETTINGS).uploaded == []
    assert len(outbox(tmp_path, NOW + timedelta(seconds=30)).upload_due(uploader, SETTINGS).uploaded) == 1


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


def test_two_sweeps_in_the_same_second_name_their_files_differently(tmp_path: Path) -> None:
    # Given two sweeps of one tenant in the same second, each uploading and emptying its outbox
    sequence = MemoryFileSequence()
    uploader = MemoryUploader()
    names = []
    for sweep in range(2):
        box = outbox(tmp_path / f"sweep-{sweep}", sequence=sequence)
        names.append(written(box, f"r-{sweep}"))
        (entry,) = box.upload_due(uploader, SETTINGS).uploaded
        box.finish(entry)
    # Then the two files have two names, in the same second, and both are on the server
    assert names[0] != names[1]
    assert {parse_file_name(n).created_at for n in names} == {NOW}
    assert sorted(uploader.files) == sorted(f"/memory/transactionImport/{n}" for n in names)


def test_the_default_sequence_is_shared_by_the_outboxes_of_a_process(tmp_path: Path) -> None:
    first = Outbox(tmp_path / "a", "acme-se", clock=lambda: NOW)
    second = Outbox(tmp_path / "b", "acme-se", clock=lambda: NOW)
    assert written(first) != written(second)


def test_a_restarted_sequence_skips_names_the_outbox_still_holds(tmp_path: Path) -> None:
    # Given a file named with number 1 waiting in the outbox, and a sequence that starts again at 1
    name = written(outbox(tmp_path))
    # When the next file is written
    again = written(outbox(tmp_path))
    # Then it takes number 2
    assert parse_file_name(name).seq == "1" and parse_file_name(again).seq == "2"


def test_default_sub_folders_are_created_on_an_empty_server(tmp_path: Path) -> None:
    # Given a file of each importable kind and a server that has only its top folder
    box = outbox(tmp_path)
    files: list[tuple[FileKind, dict[str, Any]]] = [
        ("contacts", contact_full()),
        ("transactions", purchase()),
    ]
    for kind, record in files:
        writer = box.new_writer(kind)
        writer.add(record)
        box.publish(writer, [f"acme-se:{kind}"])
    uploader = MemoryUploader()
    # When uploaded with the default settings
    result = box.upload_due(uploader, SETTINGS)
    # Then each went into its kind's default folder, which was created
    assert sorted(e.remote_path or "" for e in result.uploaded) == sorted(
        f"/memory/{REMOTE_SUBDIR_BY_KIND[e.kind]}/{e.name}" for e in result.uploaded
    )
    assert uploader.folders == {"/memory", "/memory/contactImport", "/memory/transactionImport"}


def test_a_name_taken_on_the_server_moves_the_file_to_the_next_number(tmp_path: Path) -> None:
    # Given the server holds another file under the name of our waiting file
    sequence = MemoryFileSequence()
    box = outbox(tmp_path, sequence=sequence)
    name = written(box)
    uploader = MemoryUploader()
    other = f"/memory/transactionImport/{name}"
    uploader.files[other] = b"<transactions>another sender's</transactions>"
    # When the outbox uploads
    result = box.upload_due(uploader, SETTINGS)
    # Then the other file is untouched and ours went up under the sequence's next number, same second
    (entry,) = result.uploaded
    assert uploader.files[other] == b"<transactions>another sender's</transactions>"
    assert entry.remote_name is not None and entry.remote_name != name
    assert parse_file_name(entry.remote_name).created_at == parse_file_name(name).created_at
    assert parse_file_name(entry.remote_name).seq == "2"
    assert entry.remote_path == f"/memory/transactionImport/{entry.remote_name}"
    assert uploader.files[entry.remote_path] == (box.folder / name).read_bytes()
    assert result.rejected is None and result.unavailable is None
    # And the sidecar remembers the new name (a crash before `finish` uploads under it again)
    (saved,) = box.entries()
    assert saved.remote_name == entry.remote_name and saved.upload_name == entry.remote_name


def test_our_own_earlier_upload_is_recognised_and_not_sent_twice(tmp_path: Path) -> None:
    # Given a crash after the file reached the server but before the outbox noted it
    box = outbox(tmp_path)
    name = written(box)
    uploader = MemoryUploader()
    uploader.files[f"/memory/transactionImport/{name}"] = (box.folder / name).read_bytes()
    # When the next sweep uploads
    (entry,) = box.upload_due(uploader, SETTINGS).uploaded
    # Then it counts as uploaded under its own name, and the server still holds one copy
    assert entry.remote_name is None and entry.remote_path == f"/memory/transactionImport/{name}"
    assert list(uploader.files) == [f"/memory/transactionImport/{name}"]


def test_a_folder_whose_names_are_all_taken_is_refused(tmp_path: Path) -> None:
    # Given a server where every number the sequence hands out is already taken by other files
    box = outbox(tmp_path)
    name = written(box)
    uploader = MemoryUploader()
    stamp = name.split("_", 1)[0]
    for seq in range(1, MAX_NAMES_PER_FILE + 2):
        uploader.files[f"/memory/transactionImport/{stamp}_{seq}_transactions.xml"] = b"other"
    # When the outbox uploads, Then it gives up after MAX_NAMES_PER_FILE names, as a refusal
    result = box.upload_due(uploader, SETTINGS)
    (entry,) = box.entries()
    assert result.uploaded == [] and result.rejected and "already on the server" in result.rejected
    assert entry.rejected and entry.status == "ready"
    assert set(uploader.files.values()) == {b"other"}


class StuckSequence:
    def next(self, tenant: str, kind: FileKind) -> int:
        return 1


def test_a_sequence_that_repeats_itself_is_an_error_not_an_endless_loop(tmp_path: Path) -> None:
    box = outbox(tmp_path, sequence=StuckSequence())
    written(box)
    with pytest.raises(RuntimeError, match="keeps handing out numbers"):
        box.new_writer("transactions")
