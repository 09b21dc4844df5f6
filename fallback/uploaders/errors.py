"""Upload errors, grouped by what the caller should do.

::

    UploadError                  base; carries transport, host and remote path, never a secret
    ├── UploadUnavailable        unreachable, timeout, reset, incomplete transfer: retry later
    │                            on UPLOAD_RETRY_SCHEDULE_S (fallback.uploaders.schedule)
    └── UploadRejected           auth failed, permission denied, untrusted certificate or host
        │                        key, missing remote_dir, a folder that cannot be created: an
        │                        operator must act; retrying will not help
        ├── UnsafeRemotePath     a remote name or folder that could leave the configured folder;
        │                        raised before any connection is made
        └── RemoteNameTaken      a different file of that name is already on the server; it was
                                 left untouched. The caller retries under another name
                                 (fallback.outbox does, with the next number of its sequence)

Messages are built here from the server's reply text with every known secret replaced by
``***``; passwords and key material never reach ``str()`` or ``repr()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

REDACTED: Final = "***"
MIN_SECRET_CHARS_TO_REDACT: Final = 1


class UploadError(Exception):
    """An upload did not complete; the subclass says whether to retry or to alert."""

    def __init__(
        self, message: str, *, transport: str = "", host: str = "", remote_path: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transport = transport
        self.host = host
        self.remote_path = remote_path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, transport={self.transport!r}, host={self.host!r})"


class UploadUnavailable(UploadError):
    """The server could not be reached or the transfer broke off: retry later on the schedule."""


class UploadRejected(UploadError):
    """The server (or our own checks) refused the upload: alert an operator, do not retry blindly."""


class UnsafeRemotePath(UploadRejected):
    """A remote name or folder that is not allowed; raised before connecting."""


class RemoteNameTaken(UploadRejected):
    """The server already holds a different file under the final name; nothing was replaced.

    Retrying under the same name will never help; under a new name it will.
    """


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with each non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret is not None and len(secret) >= MIN_SECRET_CHARS_TO_REDACT:
            text = text.replace(secret, REDACTED)
    return text
