"""`LocalDirUploader`: delivers into a local folder (the demo's drop folder, a mounted share).

The same steps as the network uploaders: copy to ``.{name}.part`` in the folder, fsync, check
the size, rename atomically (same folder, so same file system), fsync the folder.
The folder (``remote_dir`` plus the sub-folder) must exist.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import BinaryIO, Final

from fallback.uploaders.base import ProgressCallback, TransferUploader
from fallback.uploaders.errors import UploadError, UploadRejected, UploadUnavailable

COPY_CHUNK_BYTES: Final = 1024 * 1024
_RETRYABLE_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ESTALE})


class LocalDirUploader(TransferUploader):
    transport = "local"

    def _is_connected(self) -> bool:
        return True

    def _connect(self) -> None:
        return None

    def _disconnect(self, *, polite: bool) -> None:
        return None

    def _send(self, source: BinaryIO, path: str, size: int, on_progress: ProgressCallback | None) -> None:
        sent = 0
        with Path(path).open("wb") as target:
            while chunk := source.read(COPY_CHUNK_BYTES):
                target.write(chunk)
                sent += len(chunk)
                if on_progress is not None:
                    on_progress(sent, size)
            target.flush()
            os.fsync(target.fileno())

    def _remote_size(self, path: str) -> int | None:
        try:
            return Path(path).stat().st_size
        except FileNotFoundError:
            return None

    def _rename(self, temp: str, final: str) -> None:
        Path(temp).replace(final)
        folder = os.open(Path(final).parent, os.O_RDONLY)
        try:
            with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
                os.fsync(folder)
        finally:
            os.close(folder)

    def _remove(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        if not isinstance(exc, OSError):
            return None
        kind = UploadUnavailable if exc.errno in _RETRYABLE_ERRNOS else UploadRejected
        return self._error(kind, f"{type(exc).__name__}: {exc.strerror or exc}", remote_path)
