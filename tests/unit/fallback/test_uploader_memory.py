"""MemoryUploader, the in-memory twin: same procedure, plays outages and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from fallback.uploaders import MemoryUploader, RemoteNameTaken, Uploader, UploadRejected, UploadUnavailable

NAME = "20261124101500_1_contacts.xml"


def test_upload_stores_under_the_final_name_only(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"<contacts/>")
    uploader: Uploader = MemoryUploader()
    with uploader:
        receipt = uploader.upload(path, NAME, "contactImport")
    assert isinstance(uploader, MemoryUploader)
    assert uploader.files == {f"/memory/contactImport/{NAME}": b"<contacts/>"}
    assert receipt.remote_path == f"/memory/contactImport/{NAME}"
    assert not path.exists()


def test_down_then_back_up(tmp_path: Path) -> None:
    # Given a server that is down
    path = tmp_path / NAME
    path.write_bytes(b"<contacts/>")
    uploader = MemoryUploader()
    uploader.down = True
    # When uploading, Then unavailable and the file is kept
    with pytest.raises(UploadUnavailable):
        uploader.upload(path, NAME)
    assert path.exists()
    # When it is back, Then the upload goes through
    uploader.down = False
    uploader.upload(path, NAME)
    assert list(uploader.files) == [f"/memory/{NAME}"]


def test_reject(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"x")
    uploader = MemoryUploader()
    uploader.reject = True
    with pytest.raises(UploadRejected):
        uploader.upload(path, NAME)
    assert uploader.files == {}


def test_folders_are_created_below_remote_dir_only(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"<contacts/>")
    uploader = MemoryUploader()
    uploader.upload(path, NAME, "a/b")
    assert uploader.folders == {"/memory", "/memory/a", "/memory/a/b"}
    assert list(uploader.files) == [f"/memory/a/b/{NAME}"]


def test_a_taken_name_is_refused_and_the_same_bytes_count_as_present(tmp_path: Path) -> None:
    # Given the server holds a file under the name
    path = tmp_path / NAME
    path.write_bytes(b"<contacts/>")
    uploader = MemoryUploader()
    uploader.files[f"/memory/{NAME}"] = b"<contacts>other</contacts>"
    # When a different file is uploaded under it, Then it is refused and the other one kept
    with pytest.raises(RemoteNameTaken):
        uploader.upload(path, NAME)
    assert uploader.files == {f"/memory/{NAME}": b"<contacts>other</contacts>"}
    # When the server holds our very bytes, Then the upload counts as done without sending
    uploader.files[f"/memory/{NAME}"] = b"<contacts/>"
    assert uploader.upload(path, NAME).already_present
    assert not path.exists()
