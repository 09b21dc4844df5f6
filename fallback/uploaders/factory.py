"""`uploader_for`: the uploader for a tenant's fallback settings."""

from __future__ import annotations

from fallback.config import FallbackSettings
from fallback.uploaders.base import Uploader
from fallback.uploaders.ftp import FtpsUploader, FtpUploader
from fallback.uploaders.local import LocalDirUploader
from fallback.uploaders.sftp import SftpUploader
from fallback.uploaders.target import UploadTarget


def uploader_for(settings: FallbackSettings | UploadTarget) -> Uploader:
    """An unconnected uploader; connects on the first upload. ValueError for transport 'none'.

    Pass an :class:`UploadTarget` (``UploadTarget.from_settings(settings, ca_file=...)``) to set
    the options FallbackSettings does not carry (CA file, host key checks, timeouts).
    """
    target = settings if isinstance(settings, UploadTarget) else UploadTarget.from_settings(settings)
    if target.transport == "local":
        return LocalDirUploader(target)
    if target.transport == "ftp":
        return FtpUploader(target)
    if target.transport == "ftps":
        return FtpsUploader(target)
    return SftpUploader(target)
