"""SFTP: key login, and the host key checks (pinned fingerprint, known_hosts) against real sshd."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from fallback.uploaders import SftpUploader, UploadRejected
from tests.support.file_servers import SftpServer

pytestmark = pytest.mark.integration

NAME = "20261124101500_1_transactions.xml"


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / NAME
    path.write_bytes(b"<transactions/>")
    return path


def other_key(tmp_path: Path, name: str = "other_key") -> Path:
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def test_private_key_login_without_password(sftp: SftpServer, local_file: Path) -> None:
    target = sftp.target(password=None, private_key_path=sftp.client_key)
    receipt = SftpUploader(target).upload(local_file, NAME, "transactionImport")
    assert sftp.local_path(receipt.remote_path).read_bytes() == b"<transactions/>"


def test_an_unknown_private_key_is_rejected(sftp: SftpServer, local_file: Path, tmp_path: Path) -> None:
    target = sftp.target(password=None, private_key_path=other_key(tmp_path))
    with pytest.raises(UploadRejected, match="login refused"):
        SftpUploader(target).upload(local_file, NAME, "transactionImport")
    assert local_file.exists()


def test_an_encrypted_key_with_a_wrong_passphrase_is_rejected_without_showing_it(
    sftp: SftpServer, local_file: Path, tmp_path: Path
) -> None:
    key = tmp_path / "locked_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "right-Phrase-1", "-f", str(key)], check=True)
    target = sftp.target(
        password=None, private_key_path=key, private_key_passphrase=SecretStr("wrong-Phrase-2")
    )
    with pytest.raises(UploadRejected, match="cannot load private key") as caught:
        SftpUploader(target).upload(local_file, NAME)
    assert "wrong-Phrase-2" not in str(caught.value) + repr(caught.value)


def test_a_pinned_fingerprint_is_enough(sftp: SftpServer, local_file: Path) -> None:
    target = sftp.target(known_hosts_path=None, host_key_fingerprint=sftp.host_key_fingerprint)
    SftpUploader(target).upload(local_file, NAME, "transactionImport")
    assert sftp.local_path(f"/integration/transactionImport/{NAME}").exists()


def test_a_different_pinned_fingerprint_is_rejected_before_login(
    sftp: SftpServer, local_file: Path, tmp_path: Path
) -> None:
    # Given a fingerprint of some other key
    key = other_key(tmp_path)
    out = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True, check=True)
    target = sftp.target(known_hosts_path=None, host_key_fingerprint=out.stdout.split()[1])
    # When uploading, Then the server is refused as an impostor, before any credential is sent
    with pytest.raises(UploadRejected, match="does not match the pinned fingerprint"):
        SftpUploader(target).upload(local_file, NAME)
    log = (sftp.workdir / "sshd.log").read_text()
    assert "Accepted password" not in log and "Failed password" not in log
    assert not any(sftp.root.rglob("*.xml*"))


def test_a_host_missing_from_known_hosts_is_rejected(
    sftp: SftpServer, local_file: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(UploadRejected, match="not in"):
        SftpUploader(sftp.target(known_hosts_path=empty)).upload(local_file, NAME)


def test_a_changed_host_key_is_rejected(sftp: SftpServer, local_file: Path, tmp_path: Path) -> None:
    # Given known_hosts lists another key for this host and port (the server's key changed)
    impostor = Path(f"{other_key(tmp_path)}.pub").read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sftp.port} {impostor[0]} {impostor[1]}\n")
    # When uploading, Then it is rejected
    with pytest.raises(UploadRejected, match="does not match known_hosts"):
        SftpUploader(sftp.target(known_hosts_path=known)).upload(local_file, NAME)


def test_no_credentials_is_rejected(sftp: SftpServer, local_file: Path) -> None:
    with pytest.raises(UploadRejected, match="neither a private key nor a password"):
        SftpUploader(sftp.target(password=None)).upload(local_file, NAME)


def test_an_encrypted_key_opens_with_its_passphrase(
    sftp: SftpServer, local_file: Path, tmp_path: Path
) -> None:
    # Given an encrypted key the server does not know, and its right passphrase
    key = tmp_path / "locked_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "right-Phrase-1", "-f", str(key)], check=True)
    target = sftp.target(
        password=None, private_key_path=key, private_key_passphrase=SecretStr("right-Phrase-1")
    )
    # When uploading, Then the key loads and the login itself is what fails
    with pytest.raises(UploadRejected, match="login refused"):
        SftpUploader(target).upload(local_file, NAME)
