"""LocalDirUploader: the shared upload procedure against a local drop folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from fallback.uploaders import (
    LocalDirUploader,
    RemoteNameTaken,
    UnsafeRemotePath,
    UploadRejected,
    UploadTarget,
)

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


def test_a_retried_upload_of_the_same_file_counts_as_present_and_sends_nothing(
    drop: Path, local_file: Path
) -> None:
    # Given a first upload kept locally (its success was never recorded)
    up = uploader(drop)
    up.upload(local_file, NAME, "transactionImport", remove_local=False)
    final = drop / "transactionImport" / NAME
    first_inode = final.stat().st_ino
    # When the same file is uploaded again (a retry)
    receipt = up.upload(local_file, NAME, "transactionImport")
    # Then the file on the server is the first one, untouched, and the retry counts as delivered
    assert receipt.already_present and receipt.local_removed
    assert [p.name for p in final.parent.iterdir()] == [NAME]
    assert final.stat().st_ino == first_inode


def test_a_different_file_under_the_name_is_never_replaced(drop: Path, local_file: Path) -> None:
    # Given the drop folder already holds another file under the name
    final = drop / "transactionImport" / NAME
    final.write_bytes(b"<transactions>someone else's</transactions>\n")
    # When uploading, Then the name is refused, the other file is intact, nothing else is left
    with pytest.raises(RemoteNameTaken, match="already on the server") as caught:
        uploader(drop).upload(local_file, NAME, "transactionImport")
    assert caught.value.remote_path == str(final)
    assert final.read_bytes() == b"<transactions>someone else's</transactions>\n"
    assert [p.name for p in final.parent.iterdir()] == [NAME]
    assert local_file.exists()


def test_a_file_that_appears_during_the_transfer_is_not_replaced(drop: Path, local_file: Path) -> None:
    # Given another writer puts a file under the final name while ours is being copied
    final = drop / "transactionImport" / NAME

    def other_writer(_sent: int, _total: int) -> None:
        if not final.exists():
            final.write_bytes(b"other")

    # When uploading, Then the rename refuses to replace it and the temporary file is removed
    with pytest.raises(RemoteNameTaken):
        uploader(drop).upload(local_file, NAME, "transactionImport", on_progress=other_writer)
    assert final.read_bytes() == b"other"
    assert [p.name for p in final.parent.iterdir()] == [NAME]
    assert local_file.exists()


def test_path_traversal_is_rejected_and_nothing_is_written(drop: Path, local_file: Path) -> None:
    with pytest.raises(UnsafeRemotePath):
        uploader(drop).upload(local_file, "../escape.xml")
    with pytest.raises(UnsafeRemotePath):
        uploader(drop).upload(local_file, NAME, "../..")
    assert local_file.exists()
    assert not (drop.parent / "escape.xml").exists()


def test_missing_sub_folders_are_created(drop: Path, local_file: Path) -> None:
    receipt = uploader(drop).upload(local_file, NAME, "contactImport/nested")
    assert Path(receipt.remote_path) == drop / "contactImport" / "nested" / NAME
    assert (drop / "contactImport" / "nested" / NAME).is_file()


def test_a_missing_drop_folder_is_rejected_and_never_created(tmp_path: Path, local_file: Path) -> None:
    missing = tmp_path / "no-such-drop"
    with pytest.raises(UploadRejected, match="does not exist"):
        uploader(missing).upload(local_file, NAME, "transactionImport")
    assert not missing.exists()
    assert local_file.exists()


def test_missing_local_file_is_the_callers_error(drop: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        uploader(drop).upload(tmp_path / NAME, NAME)
