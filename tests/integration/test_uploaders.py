"""Every network uploader against its real server: FTP and FTPS (pyftpdlib and Debian's vsftpd), SFTP
(OpenSSH sshd). No-clobber and folder creation: tests/integration/test_uploaders_no_clobber.py.

One test body per behaviour, run against each transport.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from fallback.uploaders import (
    UnsafeRemotePath,
    UploadRejected,
    UploadTarget,
    UploadUnavailable,
    uploader_for,
)
from tests.support.file_servers import (
    FileServer,
    ftp_server,
    sftp_server,
    skip_or_fail_without_sshd,
    skip_or_fail_without_vsftpd,
    vsftpd_server,
)

pytestmark = pytest.mark.integration

NAME = "20261124101500_1_transactions.xml"
NAME_2 = "20261124101500_2_transactions.xml"
SUBDIR = "transactionImport"
FAST_FAIL_S = 3.0
# CR LF, NUL and non-ASCII bytes: an ASCII-mode transfer would change them
CONTENT = ("<transactions>\r\n  <x>åäö ✓</x>\n</transactions>\r\n".encode() + bytes(range(256))) * 50
BIG_BYTES = 16 * 1024 * 1024
KILL_AFTER_BYTES = 1024 * 1024
SILENT_TIMEOUT_S = 0.5


@pytest.fixture(params=["ftp", "ftps", "vsftpd-ftp", "vsftpd-ftps", "sftp"])
def file_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileServer]:
    """A fresh, running server of each transport; see tests/support/file_servers.py."""
    if request.param == "sftp":
        skip_or_fail_without_sshd()
        with sftp_server() as sftp:
            yield sftp
    elif request.param.startswith("vsftpd"):
        skip_or_fail_without_vsftpd()
        with vsftpd_server(tls=request.param == "vsftpd-ftps") as vsftpd:
            yield vsftpd
    else:
        with ftp_server(tmp_path / "server", tls=request.param == "ftps") as ftp:
            yield ftp


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    folder.mkdir()
    return folder


def outbox_file(outbox: Path, name: str = NAME, content: bytes = CONTENT) -> Path:
    path = outbox / name
    path.write_bytes(content)
    return path


def remote_names(server: FileServer, subdir: str = SUBDIR) -> list[str]:
    return sorted(p.name for p in server.local_path(f"/integration/{subdir}").iterdir())


def all_texts(exc: BaseException) -> str:
    """str and repr of an error and of every error it was raised from."""
    texts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        texts += [str(current), repr(current), *map(str, current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def test_a_batch_is_uploaded_exactly_then_local_files_are_removed(
    file_server: FileServer, outbox: Path
) -> None:
    # Given two files in the outbox
    first, second = outbox_file(outbox), outbox_file(outbox, NAME_2, CONTENT[::-1])
    progress: list[tuple[int, int]] = []
    # When both are uploaded over one connection
    with uploader_for(file_server.target()) as uploader:
        receipt = uploader.upload(first, NAME, SUBDIR, on_progress=lambda n, t: progress.append((n, t)))
        uploader.upload(second, NAME_2, SUBDIR)
    # Then the exact bytes are under the final names, no temp name is left, local files are gone
    assert remote_names(file_server) == [NAME, NAME_2]
    assert file_server.local_path(receipt.remote_path).read_bytes() == CONTENT
    assert file_server.local_path(f"/integration/{SUBDIR}/{NAME_2}").read_bytes() == CONTENT[::-1]
    assert receipt.remote_path == f"/integration/{SUBDIR}/{NAME}"
    assert receipt.bytes == len(CONTENT)
    assert receipt.local_removed
    assert not first.exists() and not second.exists()
    assert progress[-1] == (len(CONTENT), len(CONTENT))


def test_keep_local_file_when_asked(file_server: FileServer, outbox: Path) -> None:
    path = outbox_file(outbox)
    with uploader_for(file_server.target()) as uploader:
        receipt = uploader.upload(path, NAME, SUBDIR, remove_local=False)
    assert path.read_bytes() == CONTENT
    assert not receipt.local_removed
    assert remote_names(file_server) == [NAME]


def test_path_traversal_is_rejected_before_any_connection(file_server: FileServer, outbox: Path) -> None:
    # Given a stopped server (a connection attempt would fail as UploadUnavailable)
    path = outbox_file(outbox)
    file_server.stop()
    uploader = uploader_for(file_server.target())
    # When names or folders try to leave the configured folder, Then UnsafeRemotePath, not Unavailable
    for name, subdir in [
        ("../x.xml", ""),
        (NAME, "../.."),
        ("/etc/x.xml", ""),
        ("a\\b.xml", ""),
        (NAME, "/abs"),
    ]:
        with pytest.raises(UnsafeRemotePath):
            uploader.upload(path, name, subdir)
    assert path.exists()


def test_wrong_password_is_rejected_and_never_shown(file_server: FileServer, outbox: Path) -> None:
    # Given a wrong password
    wrong = "Wr0ng-pass-Word-31337"
    path = outbox_file(outbox)
    uploader = uploader_for(file_server.target(password=SecretStr(wrong)))
    # When uploading
    with capture_logs() as logs, pytest.raises(UploadRejected) as caught:
        uploader.upload(path, NAME, SUBDIR)
    # Then the error says the login was refused, and the password is nowhere in it or the logs
    assert wrong not in all_texts(caught.value)
    assert wrong not in repr(logs)
    assert file_server.password not in all_texts(caught.value)
    assert caught.value.transport == file_server.transport
    assert path.exists()
    assert remote_names(file_server) == []


def test_server_down_is_unavailable_quickly(file_server: FileServer, outbox: Path) -> None:
    # Given the server is down
    path = outbox_file(outbox)
    file_server.stop()
    # When uploading
    started = time.monotonic()
    with pytest.raises(UploadUnavailable):
        uploader_for(file_server.target()).upload(path, NAME, SUBDIR)
    # Then it fails fast, and the local file is kept
    assert time.monotonic() - started < FAST_FAIL_S
    assert path.exists()


def test_after_a_restart_the_same_uploader_delivers(file_server: FileServer, outbox: Path) -> None:
    # Given an uploader that delivered one file, and then the server went down
    with uploader_for(file_server.target()) as uploader:
        uploader.upload(outbox_file(outbox), NAME, SUBDIR)
        file_server.stop()
        second = outbox_file(outbox, NAME_2)
        with pytest.raises(UploadUnavailable):
            uploader.upload(second, NAME_2, SUBDIR)
        # When the server is back on the same port and folder
        file_server.start()
        uploader.upload(second, NAME_2, SUBDIR)
    # Then the later upload succeeded on a new connection
    assert remote_names(file_server) == [NAME, NAME_2]
    assert not second.exists()


def test_a_crash_mid_transfer_never_leaves_the_final_name(file_server: FileServer, outbox: Path) -> None:
    # Given a big file, and a server that crashes once 1 MiB has been sent
    content = os.urandom(1024) * (BIG_BYTES // 1024)
    path = outbox_file(outbox, content=content)

    def crash_server(sent: int, _total: int) -> None:
        if sent >= KILL_AFTER_BYTES and file_server.running:
            file_server.kill()

    # When the upload runs into the crash
    started = time.monotonic()
    with pytest.raises(UploadUnavailable):
        uploader_for(file_server.target()).upload(path, NAME, SUBDIR, on_progress=crash_server)
    assert time.monotonic() - started < FAST_FAIL_S + 2
    # Then the server died mid-transfer, leaving at most a partial temp file, never the final name
    assert not file_server.running
    partial = file_server.local_path(f"/integration/{SUBDIR}/.{NAME}.part")
    assert partial.stat().st_size < len(content)
    assert NAME not in remote_names(file_server)
    assert path.read_bytes() == content
    # And after a restart the retry delivers the whole file and leaves no temp file
    file_server.start()
    uploader_for(file_server.target()).upload(path, NAME, SUBDIR)
    assert remote_names(file_server) == [NAME]
    assert file_server.local_path(f"/integration/{SUBDIR}/{NAME}").read_bytes() == content


def test_errors_name_the_server_and_the_path(file_server: FileServer, outbox: Path) -> None:
    # Given a remote_dir the server does not have (it is never created; sub-folders are)
    path = outbox_file(outbox)
    with pytest.raises(UploadRejected, match="does not exist") as caught:
        uploader_for(file_server.target("/noSuchFolder")).upload(path, NAME, SUBDIR)
    assert f"{file_server.transport} 127.0.0.1:{file_server.port}" in str(caught.value)
    assert caught.value.remote_path == f"/noSuchFolder/{SUBDIR}/{NAME}"
    assert path.exists()


@pytest.mark.parametrize("transport", ["ftp", "ftps", "sftp"])
def test_a_silent_server_times_out_within_the_bound(transport: str, outbox: Path) -> None:
    # Given a server that accepts connections but never says a word
    path = outbox_file(outbox)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        target = UploadTarget(
            transport=transport,  # type: ignore[arg-type]
            remote_dir="/integration",
            port=silent.getsockname()[1],
            username="u",
            password=SecretStr("p"),
            host_key_fingerprint="SHA256:unused",
            connect_timeout_s=SILENT_TIMEOUT_S,
            io_timeout_s=SILENT_TIMEOUT_S,
        )
        # When uploading, Then it gives up as unavailable soon after the connect timeout
        started = time.monotonic()
        with pytest.raises(UploadUnavailable):
            uploader_for(target).upload(path, NAME)
        assert time.monotonic() - started < SILENT_TIMEOUT_S + 1.0
    assert path.exists()
