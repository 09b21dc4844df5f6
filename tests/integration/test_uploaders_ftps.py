"""FTPS checks the server's certificate: a private CA must be trusted explicitly; TLS is required."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fallback.uploaders import FtpsUploader, FtpUploader, UploadRejected
from tests.support.file_servers import FtpServer, ftp_server
from tests.support.tls_certs import make_tls_files

pytestmark = pytest.mark.integration

NAME = "20261124101500_1_transactions.xml"


@pytest.fixture
def ftps(tmp_path: Path) -> Iterator[FtpServer]:
    """A running FTPS server whose certificate is signed by the private CA ``ftps.ca_file``."""
    with ftp_server(tmp_path / "server", tls=True) as server:
        yield server


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / NAME
    path.write_bytes(b"<transactions/>")
    return path


def test_the_servers_own_ca_is_trusted(ftps: FtpServer, local_file: Path) -> None:
    receipt = FtpsUploader(ftps.target()).upload(local_file, NAME)
    assert ftps.local_path(receipt.remote_path).read_bytes() == b"<transactions/>"


def test_a_certificate_from_another_ca_is_rejected(ftps: FtpServer, local_file: Path, tmp_path: Path) -> None:
    # Given the client trusts a different CA than the one that signed the server's certificate
    other_ca = make_tls_files(tmp_path / "other", ca_name="someone else's CA").ca_file
    # When uploading, Then the upload is rejected (an operator must fix trust; retrying cannot)
    with pytest.raises(UploadRejected, match="certificate not trusted"):
        FtpsUploader(ftps.target(ca_file=other_ca)).upload(local_file, NAME)
    # And nothing was sent
    assert not any(ftps.root.rglob("*.xml*"))
    assert local_file.exists()


def test_the_system_store_does_not_trust_a_private_ca(ftps: FtpServer, local_file: Path) -> None:
    with pytest.raises(UploadRejected, match="certificate not trusted"):
        FtpsUploader(ftps.target(ca_file=None)).upload(local_file, NAME)


def test_plain_ftp_to_a_tls_only_server_is_refused(ftps: FtpServer, local_file: Path) -> None:
    # Given a client configured for plain FTP, When it logs in to a server that requires TLS
    with pytest.raises(UploadRejected, match="server refused"):
        FtpUploader(ftps.target()).upload(local_file, NAME)
    # Then the password was never sent in clear text: the server refused before login
    log = (ftps.workdir / "ftps-server.log").read_text()
    assert ftps.password not in log
