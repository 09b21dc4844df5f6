"""LocalDirUploader: the shared upload procedure against a local drop folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from fallback.uploaders import LocalDirUploader, UnsafeRemotePath, UploadRejected, UploadTarget

NAME = "20261124101500_1_transactions.xml"


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    (folder / "transactionImport").mkdir(parents=True)
    return folder


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / "outbox" / NAME
    path.parent.mkdir()
    path.write_bytes(b"<transactions>\xc3\xa5</transactions>\n" * 100)
    return path


def uploader(drop: Path) -> LocalDirUploader:
    return LocalDirUploader(UploadTarget(transport="local", remote_dir=str(drop)))


def test_upload_renames_into_the_folder_and_removes_the_local_file(drop: Path, local_file: Path) -> None:
    # Given a file in the outbox
    content = local_file.read_bytes()
    seen: list[tuple[int, int]] = []
    # When uploaded into the drop folder
    with uploader(drop) as up:
        receipt = up.upload(
            local_file, NAME, "transactionImport", on_progress=lambda n, t: seen.append((n, t))
        )
    # Then the exact bytes are under the final name, no temp file is left, the local file is gone
    final = drop / "transactionImport" / NAME
    assert final.read_bytes() == content
    assert sorted(p.name for p in final.parent.iterdir()) == [NAME]
    assert not local_file.exists()
    assert receipt.remote_path == str(final)
    assert receipt.bytes == len(content)
    assert receipt.local_removed
    assert receipt.seconds >= 0
    assert seen[-1] == (len(content), len(content))


def test_keep_local_leaves_the_source(drop: Path, local_file: Path) -> None:
    receipt = uploader(drop).upload(local_file, NAME, "transactionImport", remove_local=False)
    assert local_file.exists()
    assert not receipt.local_removed


def test_a_second_upload_of_the_same_name_replaces_it(drop: Path, local_file: Path) -> None:
    # Given a first upload kept locally, When the same file is uploaded again (a retry)
    up = uploader(drop)
    up.upload(local_file, NAME, "transactionImport", remove_local=False)
    up.upload(local_file, NAME, "transactionImport")
    # Then one complete file is there
    assert [p.name for p in (drop / "transactionImport").iterdir()] == [NAME]


def test_path_traversal_is_rejected_and_nothing_is_written(drop: Path, local_file: Path) -> None:
    with pytest.raises(UnsafeRemotePath):
        uploader(drop).upload(local_file, "../escape.xml")
    with pytest.raises(UnsafeRemotePath):
        uploader(drop).upload(local_file, NAME, "../..")
    assert local_file.exists()
    assert not (drop.parent / "escape.xml").exists()


def test_missing_folder_is_rejected_and_the_local_file_is_kept(drop: Path, local_file: Path) -> None:
    with pytest.raises(UploadRejected, match="FileNotFoundError"):
        uploader(drop).upload(local_file, NAME, "contactImport")
    assert local_file.exists()


def test_missing_local_file_is_the_callers_error(drop: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        uploader(drop).upload(tmp_path / NAME, NAME)
