"""No file on a server is ever replaced, and missing sub-folders are made: against real servers.

Every body runs on pyftpdlib (FTP, FTPS), Debian's vsftpd (FTP, FTPS), OpenSSH's sshd (SFTP) and a
local drop folder. The folder tests start from an empty server and use the default settings: the
default sub-folders (fallback/outbox.py REMOTE_SUBDIR_BY_KIND) and the server's top folder as
``remote_dir`` (``/``), except on the SFTP chroot, whose top folder belongs to root as OpenSSH demands,
so its user's folder ``/integration`` is the remote_dir there.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from lxml import etree

from fallback.config import FallbackSettings
from fallback.file_sequence import PROCESS_FILE_SEQUENCE, RedisFileSequence
from fallback.outbox import REMOTE_SUBDIR_BY_KIND, Outbox
from fallback.uploaders import RemoteNameTaken, UploadRejected, UploadTarget, uploader_for
from fallback.xmlfiles import FileKind
from fallback.xmlfiles.naming import parse_file_name
from tests.support.file_servers import (
    FileServer,
    LocalDrop,
    ftp_server,
    sftp_server,
    skip_or_fail_without_sshd,
    skip_or_fail_without_vsftpd,
    vsftpd_server,
)
from tests.support.xml_records import contact_full, purchase, redemptions

pytestmark = pytest.mark.integration

NAME = "20261124101500_1_transactions.xml"
SUBDIR = "transactionImport"
CONTENT = b'<?xml version="1.0" encoding="utf-8"?>\n<transactions>ours \xc3\xa5</transactions>\n' * 400
THEIRS = b"<transactions>another sender's file, not yet imported</transactions>\n"
TRANSPORTS = ["ftp", "ftps", "vsftpd-ftp", "vsftpd-ftps", "sftp", "local"]
TENANT = "acme-se"
SAME_SECOND = datetime(2026, 11, 24, 10, 15, 0, tzinfo=UTC)
PROCESSES = 2
FILES_PER_PROCESS = 10
CHILD_TIMEOUT_S = 60.0
Server = FileServer | LocalDrop


def open_server(kind: str, tmp_path: Path, folders: tuple[str, ...] | None) -> Any:
    """A context manager for a running server of ``kind``; ``folders=None``: the usual import folders."""
    options: dict[str, Any] = {} if folders is None else {"folders": folders}
    if kind in ("ftp", "ftps"):
        return ftp_server(tmp_path / "server", tls=kind == "ftps", **options)
    if kind.startswith("vsftpd"):
        skip_or_fail_without_vsftpd()
        return vsftpd_server(tls=kind == "vsftpd-ftps", **options)
    if kind == "sftp":
        skip_or_fail_without_sshd()
        return sftp_server(**options)
    drop = LocalDrop(tmp_path / "drop") if folders is None else LocalDrop(tmp_path / "drop", folders)
    return contextlib.nullcontext(drop)


@pytest.fixture(params=TRANSPORTS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A running server with ``/integration/transactionImport`` and ``/integration/contactImport``."""
    with open_server(request.param, tmp_path, None) as running:
        yield running


@pytest.fixture(params=TRANSPORTS)
def empty_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A running server whose folder is empty (the SFTP chroot keeps its user's ``/integration``)."""
    with open_server(request.param, tmp_path, ()) as running:
        yield running


def home_of(server: Server) -> str:
    """The remote_dir a tenant of this server would configure: the default ``/`` where it can be used."""
    return "/integration" if server.transport == "sftp" else "/"


def local_file(tmp_path: Path, content: bytes = CONTENT, name: str = NAME) -> Path:
    path = tmp_path / "outbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def put_foreign_file(server: Server, remote_path: str, content: bytes = THEIRS) -> Path:
    """A file another sender left on the server (written straight into the server's folder)."""
    path = server.local_path(remote_path)
    path.write_bytes(content)
    return path


# --- a name that is already taken ---------------------------------------------------------------------


def test_a_different_file_under_the_name_is_never_replaced(server: Server, tmp_path: Path) -> None:
    # Given the server holds another sender's file under our name
    theirs = put_foreign_file(server, f"/integration/{SUBDIR}/{NAME}")
    ours = local_file(tmp_path)
    # When we upload ours under that name
    with pytest.raises(RemoteNameTaken) as caught:
        uploader_for(server.target()).upload(ours, NAME, SUBDIR)
    # Then the upload is refused with a clear error, their file is untouched, nothing else was left
    assert "already on the server" in str(caught.value)
    assert caught.value.remote_path == server.target().remote_dir.rstrip("/") + f"/{SUBDIR}/{NAME}"
    assert isinstance(caught.value, UploadRejected)
    if server.password:
        assert server.password not in str(caught.value) + repr(caught.value)
    assert theirs.read_bytes() == THEIRS
    assert names_in(theirs.parent) == [NAME]
    assert ours.read_bytes() == CONTENT


def test_our_own_bytes_under_the_name_count_as_delivered(server: Server, tmp_path: Path) -> None:
    # Given an earlier attempt put our file on the server, and its success was never recorded
    ours = local_file(tmp_path)
    uploader_for(server.target()).upload(ours, NAME, SUBDIR, remove_local=False)
    on_server = server.local_path(f"/integration/{SUBDIR}/{NAME}")
    first = on_server.stat()
    # When it is uploaded again
    receipt = uploader_for(server.target()).upload(ours, NAME, SUBDIR)
    # Then nothing is sent or replaced, and the upload counts as done
    assert receipt.already_present and receipt.local_removed
    assert on_server.read_bytes() == CONTENT
    assert (on_server.stat().st_ino, on_server.stat().st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert names_in(on_server.parent) == [NAME]


def test_a_file_that_appears_during_the_transfer_is_not_replaced(server: Server, tmp_path: Path) -> None:
    # Given another sender writes a file under our name while ours is on its way (after our check)
    final = f"/integration/{SUBDIR}/{NAME}"
    ours = local_file(tmp_path, CONTENT * 8)

    def another_sender(_sent: int, _total: int) -> None:
        if not server.local_path(final).exists():
            put_foreign_file(server, final)

    # When our transfer ends and the rename comes
    with pytest.raises(RemoteNameTaken):
        uploader_for(server.target()).upload(ours, NAME, SUBDIR, on_progress=another_sender)
    # Then the rename did not replace theirs (SFTP: the server's own RENAME refused), our temp file is gone
    assert server.local_path(final).read_bytes() == THEIRS
    assert names_in(server.local_path(f"/integration/{SUBDIR}")) == [NAME]
    assert ours.exists()


# --- folders ------------------------------------------------------------------------------------------


def test_an_empty_server_gets_the_default_sub_folders(empty_server: Server, tmp_path: Path) -> None:
    # Given an empty server, default settings, and a file of each kind in the outbox
    remote_dir = home_of(empty_server)
    settings = empty_server.settings(remote_dir)
    assert settings.remote_subdirs is None  # the defaults
    box = Outbox(tmp_path / "outbox", TENANT)
    records: list[tuple[FileKind, dict[str, Any]]] = [
        ("contacts", contact_full()),
        ("transactions", purchase()),
        ("promotion-redemptions", redemptions()[0]),
    ]
    for kind, record in records:
        writer = box.new_writer(kind)
        writer.add(record)
        box.publish(writer, [f"{TENANT}:{kind}"])
    # When the outbox uploads
    with uploader_for(empty_server.target(remote_dir)) as uploader:
        result = box.upload_due(uploader, settings)
    # Then each file is in its kind's default folder, made by the upload
    assert result.rejected is None and result.unavailable is None
    assert len(result.uploaded) == len(records)
    for entry in result.uploaded:
        folder = empty_server.local_path(f"{remote_dir.rstrip('/')}/{REMOTE_SUBDIR_BY_KIND[entry.kind]}")
        assert names_in(folder) == [entry.name]
        assert (folder / entry.name).read_bytes() == box.path_of(entry).read_bytes()


def test_nested_sub_folders_are_made_one_by_one(empty_server: Server, tmp_path: Path) -> None:
    remote_dir = home_of(empty_server).rstrip("/")
    uploader_for(empty_server.target(remote_dir or "/")).upload(local_file(tmp_path), NAME, "a/b/c")
    assert empty_server.local_path(f"{remote_dir}/a/b/c/{NAME}").read_bytes() == CONTENT


def test_the_configured_remote_dir_itself_is_never_created(empty_server: Server, tmp_path: Path) -> None:
    # Given a remote_dir that does not exist (a typo in the tenant's settings)
    ours = local_file(tmp_path)
    target = empty_server.target(f"{home_of(empty_server).rstrip('/')}/integraton")
    # When uploading, Then the upload is refused and names the folder; nothing was created
    with pytest.raises(UploadRejected, match="does not exist"):
        uploader_for(target).upload(ours, NAME, SUBDIR)
    assert not empty_server.local_path(f"{home_of(empty_server).rstrip('/')}/integraton").exists()
    assert ours.exists()


def test_a_folder_that_cannot_be_made_is_refused_naming_server_and_path(
    server: Server, tmp_path: Path
) -> None:
    # Given a plain file where a sub-folder would have to be made
    put_foreign_file(server, "/integration/blocked")
    ours = local_file(tmp_path)
    # When uploading below it, Then a refusal (an operator must look), not an endless retry
    with pytest.raises(UploadRejected, match="cannot create remote folder") as caught:
        uploader_for(server.target()).upload(ours, NAME, "blocked/inner")
    assert caught.value.remote_path is not None and caught.value.remote_path.endswith(
        f"/blocked/inner/{NAME}"
    )
    if isinstance(server, FileServer):
        assert f"{server.transport} 127.0.0.1:{server.port}" in str(caught.value)
    assert ours.exists()


# --- two sweeps in the same second --------------------------------------------------------------------


def sweep_in_child(
    tag: str,
    folder: Path,
    redis_url: str | None,
    target: UploadTarget,
    files: int,
    start: Any,
    results: Any,
) -> None:
    """One sweep of TENANT in its own process, writing ``files`` files in SAME_SECOND and uploading them."""
    client = redis.Redis.from_url(redis_url) if redis_url else None
    sequence = RedisFileSequence(client) if client is not None else PROCESS_FILE_SEQUENCE
    box = Outbox(folder, TENANT, clock=lambda: SAME_SECOND, sequence=sequence)
    if start is not None:
        start.wait()
    for index in range(files):
        writer = box.new_writer("transactions")
        writer.add(purchase(f"{tag}-{index}", lines=1))
        box.publish(writer, [f"{TENANT}:{tag}-{index}"])
    with uploader_for(target) as uploader:
        result = box.upload_due(uploader, FallbackSettings())
    results.put([(e.name, e.remote_path, e.records) for e in result.uploaded])


def receipt_ids(path: Path) -> list[str]:
    tree = etree.parse(str(path))
    return [e.text or "" for e in tree.iter("{http://voyado.Schemas.ImportReceipts}uniqueReceiptId")]


def run_children(
    tmp_path: Path, target: UploadTarget, redis_url: str | None, files: int, *, together: bool
) -> list[tuple[str, str, int]]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = context.Barrier(PROCESSES) if together else None
    uploaded: list[tuple[str, str, int]] = []
    children = []
    for index in range(PROCESSES):
        args = (f"p{index}", tmp_path / f"outbox-{index}", redis_url, target, files, start, results)
        child = context.Process(target=sweep_in_child, args=args)
        child.start()
        children.append(child)
        if not together:  # one sweep after the other, as the tenant's sweep lock orders them
            uploaded += results.get(timeout=CHILD_TIMEOUT_S)
            child.join(CHILD_TIMEOUT_S)
    if together:
        for _ in children:
            uploaded += results.get(timeout=CHILD_TIMEOUT_S)
        for child in children:
            child.join(CHILD_TIMEOUT_S)
    assert [child.exitcode for child in children] == [0] * PROCESSES
    return uploaded


def test_two_processes_sharing_redis_never_pick_the_same_name(redis_url: str, tmp_path: Path) -> None:
    # Given two sweeps of one tenant in two processes, in the same second, numbering from one Redis
    with ftp_server(tmp_path / "server", folders=()) as server:
        target = server.target("/")
        # When both write and upload ten files each at the same time
        uploaded = run_children(tmp_path, target, redis_url, FILES_PER_PROCESS, together=True)
        # Then twenty names, all in that second, each file whole on the server with its own receipt
        names = [name for name, _, _ in uploaded]
        assert len(set(names)) == PROCESSES * FILES_PER_PROCESS
        assert {parse_file_name(n).created_at for n in names} == {SAME_SECOND}
        folder = server.local_path(f"/{SUBDIR}")
        assert names_in(folder) == sorted(names)
        ids = [receipt_id for name in names for receipt_id in receipt_ids(folder / name)]
        expected = {f"p{p}-{i}" for p in range(PROCESSES) for i in range(FILES_PER_PROCESS)}
        assert sorted(ids) == sorted(expected)
        # And the names came from the shared sequence: nobody had to re-number on the server
        assert all(remote.endswith(f"/{name}") for name, remote, _ in uploaded)
        client = redis.Redis.from_url(redis_url)
        assert client.get(f"engage:fallback:seq:{TENANT}:transactions") == str(len(names)).encode()
        client.close()


def test_without_redis_a_second_sweep_in_that_second_is_renumbered_not_replaced(tmp_path: Path) -> None:
    # Given two processes without a shared sequence: each one's first file is named ..._1_transactions.xml
    with ftp_server(tmp_path / "server", folders=()) as server:
        # When one sweeps and uploads, and the next one does so in the same second
        uploaded = run_children(tmp_path, server.target("/"), None, 1, together=False)
        # Then the first file kept its name and is intact; the second went up under the next number
        (first_name, first_remote, _), (second_name, second_remote, _) = uploaded
        assert first_name == second_name == f"{SAME_SECOND:%Y%m%d%H%M%S}_1_transactions.xml"
        assert first_remote == f"/{SUBDIR}/{first_name}"
        assert second_remote == f"/{SUBDIR}/{SAME_SECOND:%Y%m%d%H%M%S}_2_transactions.xml"
        folder = server.local_path(f"/{SUBDIR}")
        assert receipt_ids(folder / first_name) == ["p0-0"]
        assert receipt_ids(folder / Path(second_remote).name) == ["p1-0"]
        assert len(names_in(folder)) == PROCESSES
