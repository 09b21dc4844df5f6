"""`LocalDirUploader`: delivers into a local folder (the demo's drop folder, a mounted share).

The same steps as the network uploaders: copy to ``.{name}.part`` in the folder, fsync, check
the size, give it the final name without replacing a file (``os.link`` fails on an existing
name; on a file system without hard links, an existence check right before the rename), unlink
the temporary name, fsync the folder.
The drop folder (``remote_dir``) must exist; missing sub-folders are created.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

from fallback.uploaders.base import FinalNameExists, ProgressCallback, TransferUploader
from fallback.uploaders.errors import UploadError, UploadRejected, UploadUnavailable

COPY_CHUNK_BYTES: Final = 1024 * 1024
_RETRYABLE_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ESTALE})
_NO_HARD_LINK_ERRNOS: Final = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)


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

    def _rename_no_clobber(self, temp: str, final: str) -> None:
        try:
            os.link(temp, final)
        except FileExistsError:
            raise FinalNameExists(final) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINK_ERRNOS:
                raise
            # a file system without hard links: check, then rename
            if Path(final).exists() or Path(final).is_symlink():
                raise FinalNameExists(final) from None
            Path(temp).rename(final)
        else:
            Path(temp).unlink()
        folder = os.open(Path(final).parent, os.O_RDONLY)
        try:
            with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
                os.fsync(folder)
        finally:
            os.close(folder)

    def _read(self, path: str, consume: Callable[[bytes], None]) -> None:
        with Path(path).open("rb") as remote:
            while chunk := remote.read(COPY_CHUNK_BYTES):
                consume(chunk)

    def _is_folder(self, path: str) -> bool:
        return Path(path).is_dir()

    def _make_folder(self, path: str) -> None:
        Path(path).mkdir()

    def _remove(self, path: str) -> None:
        Path(path).unlink(missing_ok=True)

    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        if not isinstance(exc, OSError):
            return None
        kind = UploadUnavailable if exc.errno in _RETRYABLE_ERRNOS else UploadRejected
        return self._error(kind, f"{type(exc).__name__}: {exc.strerror or exc}", remote_path)
