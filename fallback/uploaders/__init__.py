"""Uploaders: deliver fallback import files to Voyado's file server (or a local drop folder).

Public:

- :class:`Uploader` (Protocol), :class:`UploadReceipt`, ``ProgressCallback``;
  implementations :class:`LocalDirUploader`, :class:`FtpUploader`, :class:`FtpsUploader`,
  :class:`SftpUploader`, all built from an :class:`UploadTarget`; :class:`MemoryUploader`, the
  in-memory twin for tests (``.files``, ``.down``, ``.reject``).
- :func:`uploader_for` (``FallbackSettings`` or ``UploadTarget`` -> ``Uploader``).
- :class:`UploadTarget` (FallbackSettings plus CA file, host key checks, timeouts),
  ``CONNECT_TIMEOUT_S``, ``IO_TIMEOUT_S``.
- Errors: :class:`UploadError` > :class:`UploadUnavailable` (retry later),
  :class:`UploadRejected` (operator) > :class:`UnsafeRemotePath`, :class:`RemoteNameTaken` (a
  different file already has that name; it is never replaced: retry under another name).
- :data:`UPLOAD_RETRY_SCHEDULE_S`, :func:`next_upload_attempt`.
- :data:`REMOTE_NAME_RE`, :func:`resolve_remote`, :func:`temp_name_for` (remote path rules).

An upload creates missing sub-folders of ``remote_dir``, never replaces a file on the server, and
counts the same bytes already under the final name as delivered (``UploadReceipt.already_present``);
the steps are in :mod:`fallback.uploaders.base`.

Usage, one connection per batch::

    with uploader_for(tenant.fallback) as uploader:
        for path in batch:
            uploader.upload(path, path.name, "transactionImport")  # deletes path when verified
"""

from __future__ import annotations

from fallback.uploaders.base import ProgressCallback, Uploader, UploadReceipt
from fallback.uploaders.errors import (
    RemoteNameTaken,
    UnsafeRemotePath,
    UploadError,
    UploadRejected,
    UploadUnavailable,
)
from fallback.uploaders.factory import uploader_for
from fallback.uploaders.ftp import FtpsUploader, FtpUploader
from fallback.uploaders.local import LocalDirUploader
from fallback.uploaders.memory import MemoryUploader
from fallback.uploaders.paths import REMOTE_NAME_RE, RemoteLocation, resolve_remote, temp_name_for
from fallback.uploaders.schedule import UPLOAD_RETRY_SCHEDULE_S, next_upload_attempt
from fallback.uploaders.sftp import SftpUploader
from fallback.uploaders.target import CONNECT_TIMEOUT_S, IO_TIMEOUT_S, UploadTarget

__all__ = [
    "CONNECT_TIMEOUT_S",
    "IO_TIMEOUT_S",
    "REMOTE_NAME_RE",
    "UPLOAD_RETRY_SCHEDULE_S",
    "FtpUploader",
    "FtpsUploader",
    "LocalDirUploader",
    "MemoryUploader",
    "ProgressCallback",
    "RemoteLocation",
    "RemoteNameTaken",
    "SftpUploader",
    "UnsafeRemotePath",
    "UploadError",
    "UploadReceipt",
    "UploadRejected",
    "UploadTarget",
    "UploadUnavailable",
    "Uploader",
    "next_upload_attempt",
    "resolve_remote",
    "temp_name_for",
    "uploader_for",
]
