"""The file half of "Test connection" against real FTP and SFTP servers: a probe file written and removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from fallback.config import FallbackSettings
from relay.file_check import PROBE_PREFIX, check_file_server
from tests.support.file_servers import ftp_server, sftp_server, skip_or_fail_without_sshd
from tests.support.processes import free_port

pytestmark = pytest.mark.integration


def leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob(f"{PROBE_PREFIX}*")]


def test_an_ftp_server_that_takes_files_is_ok_and_keeps_no_probe(tmp_path: Path) -> None:
    with ftp_server(tmp_path / "server") as ftp:
        result = check_file_server(ftp.settings())
        assert result.ok, result
        assert result.verdict == "file_server_ok"
        assert "a test file was written and removed" in result.message
        assert leftovers(ftp.local_path("/")) == []
        # a wrong password is refused in plain words, without the password
        wrong = ftp.settings().model_copy(update={"password": SecretStr("not-the-password-123")})
        refused = check_file_server(wrong)
        assert not refused.ok and refused.verdict in ("file_server_refused", "file_server_unreachable")
        assert "not-the-password-123" not in refused.message


def test_an_sftp_server_that_takes_files_is_ok() -> None:
    skip_or_fail_without_sshd()
    with sftp_server() as sftp:
        pinned = sftp.settings().model_copy(update={"known_hosts_path": str(sftp.known_hosts)})
        result = check_file_server(pinned)
        assert result.ok, result
        assert leftovers(sftp.local_path("/")) == []


def test_no_server_listening_is_unreachable() -> None:
    settings = FallbackSettings(transport="ftp", host="127.0.0.1", port=free_port(), username="u")
    result = check_file_server(settings)
    assert not result.ok and result.verdict == "file_server_unreachable"
    assert "cannot be reached" in result.message


def test_no_file_server_is_fine_and_said_so(tmp_path: Path) -> None:
    assert check_file_server(FallbackSettings(transport="none")).verdict == "no_file_server"
    missing = check_file_server(FallbackSettings(transport="local", remote_dir=str(tmp_path / "nope")))
    assert not missing.ok and "does not exist" in missing.message
    assert check_file_server(FallbackSettings(transport="local", remote_dir=str(tmp_path))).ok
