"""The checkpointed migration loop with files: grouping, rotation, cutoff, rejects, resume, dry run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fallback.checkpoint import Checkpoint, CheckpointError, CheckpointFile
from fallback.uploaders import MemoryUploader
from fallback.xmlfiles import validate_file
from migration.jobs import MigrationSpec, Services, run_migration
from migration.runner import SaveStage
from tests.unit.migration.test_migrate_helpers import (
    NOW,
    contacts_csv,
    file_receipts,
    rejects_lines,
    sale,
    tenant,
    write_ndjson,
)


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


def receipts_spec(tmp_path: Path, source: Path, **kw: Any) -> MigrationSpec:
    options: dict[str, Any] = {"rows_per_file": 2, "remote_subdir": ""}
    options.update(kw)
    return MigrationSpec(kind="receipts", input_path=source, tenant=tenant(), out=tmp_path / "out", **options)


def uploaded(uploader: MemoryUploader, tmp_path: Path) -> list[tuple[str, str]]:
    """Every receipt in every uploaded file, in upload-name order."""
    found = []
    for name, data in sorted(uploader.files.items()):
        local = tmp_path / Path(name).name
        local.write_bytes(data)
        assert validate_file(local, "transactions") == []
        found += file_receipts(local)
    return found


def test_receipts_are_cut_grouped_by_match_key_type_rotated_and_uploaded(tmp_path: Path) -> None:
    # Given 3 e-mail sales, 2 member-number sales, one too old, one bad line and one broken row
    rows: list[Any] = [sale(i) for i in (1, 2)]
    rows += [sale(3, customer={"member_number": "M-3"}), sale(4, created_at="2020-01-01T00:00:00+00:00")]
    rows += ["{broken", {**sale(5), "currency": "sek"}, sale(6), sale(7, customer={"member_number": "M-7"})]
    source = write_ndjson(tmp_path / "sales.ndjson", rows)
    uploader = MemoryUploader()
    # When migrated with two receipts per file at a fixed clock
    result = run_migration(receipts_spec(tmp_path, source), Services(uploader=uploader, clock=lambda: NOW))
    # Then the counts add up and each file holds one matchKeyType, at most two receipts
    c = result.counters
    assert (c["read"], c["written"], c["skipped_old"], c["rejected"]) == (8, 5, 1, 2)
    assert (c["files"], c["uploaded"]) == (3, 3)
    receipts = uploaded(uploader, tmp_path)
    assert sorted(receipts) == sorted(
        [
            ("receipt-r-1", "email"),
            ("receipt-r-2", "email"),
            ("receipt-r-6", "email"),
            ("receipt-r-3", "memberNumber"),
            ("receipt-r-7", "memberNumber"),
        ]
    )
    assert rejects_lines(tmp_path / "out" / "rejects.ndjson") == [5, 6]
    assert not list((tmp_path / "out" / "files").iterdir())  # removed once uploaded


def test_an_interrupted_file_run_resumes_without_uploading_anything_twice(tmp_path: Path) -> None:
    # Given 9 e-mail sales interleaved with member-number ones, and bad rows in between
    rows: list[Any] = []
    for i in range(1, 13):
        rows.append(sale(i, customer={"member_number": f"M-{i}"}) if i % 3 == 0 else sale(i))
        if i % 4 == 0:
            rows.append("{broken")
    source = write_ndjson(tmp_path / "sales.ndjson", rows)
    uploader = MemoryUploader()
    services = Services(uploader=uploader, clock=lambda: NOW)
    spec = receipts_spec(tmp_path, source, rows_per_file=3)
    # When the run is interrupted right after its second upload, and once more after a file is written
    with pytest.raises(Interrupt):
        run_migration(spec, services, hook=interrupt_after(2, "finished"))
    with pytest.raises(Interrupt):
        run_migration(spec, services, hook=interrupt_after(1, "closed"))
    result = run_migration(spec, services)
    # Then every receipt was uploaded exactly once, and every bad row was reported once
    receipts = uploaded(uploader, tmp_path)
    assert sorted(unique for unique, _ in receipts) == sorted(f"receipt-r-{i}" for i in range(1, 13))
    assert result.resumed
    assert result.counters["read"] == 15
    assert result.counters["rejected"] == 3
    assert result.counters["uploaded"] == result.counters["files"] == len(uploader.files) == 5
    assert len(rejects_lines(tmp_path / "out" / "rejects.ndjson")) == 3
    # And a further run finds the work done and does nothing
    again = run_migration(spec, services)
    assert again.already_done and len(uploader.files) == 5


def test_no_upload_keeps_files_and_a_later_upload_run_sends_them(tmp_path: Path) -> None:
    source = write_ndjson(tmp_path / "sales.ndjson", [sale(i) for i in range(1, 6)])
    spec = receipts_spec(tmp_path, source, upload=False)
    result = run_migration(spec, Services(clock=lambda: NOW))
    files = sorted((tmp_path / "out" / "files").iterdir())
    assert result.counters["files"] == 3 and result.counters["uploaded"] == 0 and len(files) == 3
    assert all(validate_file(f, "transactions") == [] for f in files)
    # When the same run is resumed with uploads on
    uploader = MemoryUploader()
    later = run_migration(receipts_spec(tmp_path, source), Services(uploader=uploader, clock=lambda: NOW))
    # Then the files are uploaded, not written again
    assert later.already_done and later.counters["uploaded"] == 3 and len(uploader.files) == 3


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    source = contacts_csv(tmp_path / "c.csv", 5, bad_at=[2])
    spec = MigrationSpec(
        kind="contacts", input_path=source, tenant=tenant(), out=tmp_path / "out", via="xml", dry_run=True
    )
    result = run_migration(spec, Services())
    assert (result.counters["read"], result.counters["rejected"], result.counters["files"]) == (5, 1, 1)
    assert not (tmp_path / "out").exists()


def test_contacts_file_run_writes_valid_files_and_rejects_with_line_numbers(tmp_path: Path) -> None:
    source = contacts_csv(tmp_path / "c.csv", 7, bad_at=[3, 6])
    spec = MigrationSpec(
        kind="contacts",
        input_path=source,
        tenant=tenant(),
        out=tmp_path / "out",
        via="xml",
        upload=False,
        rows_per_file=2,
    )
    result = run_migration(spec, Services())
    files = sorted((tmp_path / "out" / "files").iterdir())
    assert result.counters["written"] == 5 and len(files) == 3
    assert all(validate_file(f, "contacts") == [] for f in files)
    assert rejects_lines(tmp_path / "out" / "rejects.ndjson") == [4, 7]  # data rows 3 and 6


def test_checkpoint_refuses_other_options_or_a_changed_input(tmp_path: Path) -> None:
    source = write_ndjson(tmp_path / "sales.ndjson", [sale(i) for i in range(1, 4)])
    spec = receipts_spec(tmp_path, source, upload=False)
    with pytest.raises(Interrupt):
        run_migration(spec, Services(clock=lambda: NOW), hook=interrupt_after(1, "closed"))
    with pytest.raises(CheckpointError, match="other options"):
        run_migration(receipts_spec(tmp_path, source, upload=False, months=12), Services(clock=lambda: NOW))
    with source.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(sale(9)) + "\n")
    with pytest.raises(CheckpointError, match="input file changed"):
        run_migration(spec, Services(clock=lambda: NOW))
    restarted = run_migration(
        receipts_spec(tmp_path, source, upload=False, restart=True), Services(clock=lambda: NOW)
    )
    assert restarted.counters["written"] == 4 and not restarted.resumed


def test_checkpoint_file_is_replaced_atomically(tmp_path: Path) -> None:
    source = write_ndjson(tmp_path / "x.ndjson", [{}])
    store = CheckpointFile(tmp_path / "cp" / "x.json")
    from fallback.checkpoint import InputFingerprint

    checkpoint = Checkpoint(input=InputFingerprint.of(source), options={"kind": "receipts"})
    store.save(checkpoint)
    checkpoint.counters["read"] = 3
    store.save(checkpoint)
    assert store.load().counters == {"read": 3}
    assert [p.name for p in (tmp_path / "cp").iterdir()] == ["x.json"]  # no temporary file left
