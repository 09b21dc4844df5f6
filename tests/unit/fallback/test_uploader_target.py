"""UploadTarget from FallbackSettings, and uploader_for's choice of implementation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from fallback.config import FallbackSettings
from fallback.uploaders import (
    FtpsUploader,
    FtpUploader,
    LocalDirUploader,
    SftpUploader,
    UploadTarget,
    uploader_for,
)


@pytest.mark.parametrize(
    ("transport", "cls", "port"),
    [("ftp", FtpUploader, 21), ("ftps", FtpsUploader, 21), ("sftp", SftpUploader, 22)],
)
def test_uploader_for_picks_the_transport_and_its_default_port(
    transport: str, cls: type[object], port: int
) -> None:
    settings = FallbackSettings(transport=transport, host="ftp.voyado.com", remote_dir="/integration")
    uploader = uploader_for(settings)
    assert type(uploader) is cls
    assert UploadTarget.from_settings(settings).effective_port == port


def test_local_transport_writes_to_remote_dir(tmp_path: Path) -> None:
    uploader = uploader_for(FallbackSettings(transport="local", remote_dir=str(tmp_path)))
    assert isinstance(uploader, LocalDirUploader)


def test_local_transport_refuses_the_filesystem_root() -> None:
    with pytest.raises(ValueError, match="drop folder"):
        uploader_for(FallbackSettings(transport="local", remote_dir="/"))


def test_transport_none_has_no_uploader() -> None:
    with pytest.raises(ValueError, match="none"):
        uploader_for(FallbackSettings(transport="none"))


@pytest.mark.parametrize("host", ["", "a\r\nb", "a/b"])
def test_odd_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="host"):
        UploadTarget(transport="ftp", remote_dir="/", host=host)


def test_reprs_never_show_the_password() -> None:
    # Given settings with a password
    settings = FallbackSettings(
        transport="sftp", username="u", password=SecretStr("hunter2-pw"), remote_dir="/x"
    )
    target = UploadTarget.from_settings(settings, private_key_passphrase=SecretStr("pass-phrase-9"))
    # When the target and the uploader are shown, Then no secret appears
    for text in (repr(target), str(target), repr(uploader_for(target))):
        assert "hunter2-pw" not in text
        assert "pass-phrase-9" not in text
    assert target.secrets == ("hunter2-pw", "pass-phrase-9")
