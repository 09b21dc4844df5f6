"""`MemoryUploader`: the in-memory twin, for tests of code that drives an uploader.

It runs the same procedure as the real uploaders (path checks, folders, temp name, size check,
no-clobber rename, local delete) against a dict of files (``.files``) and a set of folders
(``.folders``, holding only ``remote_dir`` at first), and can play an outage (``down = True``
raises :class:`~fallback.uploaders.errors.UploadUnavailable` on connect) or a refusal
(``reject = True`` raises :class:`~fallback.uploaders.errors.UploadRejected`). Put a file into
``.files`` to play a server that already holds that name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import BinaryIO

from fallback.uploaders.base import FinalNameExists, ProgressCallback, TransferUploader
from fallback.uploaders.errors import UploadError, UploadRejected, UploadUnavailable
from fallback.uploaders.paths import check_base_dir
from fallback.uploaders.target import UploadTarget


class MemoryUploader(TransferUploader):
    transport = "memory"

    def __init__(self, target: UploadTarget | None = None) -> None:
        super().__init__(target or UploadTarget(transport="local", remote_dir="/memory"))
        self.files: dict[str, bytes] = {}
        self.folders: set[str] = {check_base_dir(self.target.remote_dir)}
        self.down = False
        self.reject = False
        self.connects = 0
        self._connected = False

    def _is_connected(self) -> bool:
        return self._connected

    def _connect(self) -> None:
        if self.down:
            raise self._error(UploadUnavailable, "ConnectionRefusedError: server is down", None)
        if self.reject:
            raise self._error(UploadRejected, "server refused: 530 login incorrect", None)
        self.connects += 1
        self._connected = True

    def _disconnect(self, *, polite: bool) -> None:
        self._connected = False

    def _send(self, source: BinaryIO, path: str, size: int, on_progress: ProgressCallback | None) -> None:
        if posixpath.dirname(path) not in self.folders:
            raise self._error(UploadRejected, "server refused: 553 no such folder", path)
        data = source.read()
        self.files[path] = data
        if on_progress is not None:
            on_progress(len(data), size)

    def _remote_size(self, path: str) -> int | None:
        data = self.files.get(path)
        return None if data is None else len(data)

    def _rename_no_clobber(self, temp: str, final: str) -> None:
        if final in self.files:
            raise FinalNameExists(final)
        self.files[final] = self.files.pop(temp)

    def _read(self, path: str, consume: Callable[[bytes], None]) -> None:
        consume(self.files[path])

    def _is_folder(self, path: str) -> bool:
        return path in self.folders

    def _make_folder(self, path: str) -> None:
        if posixpath.dirname(path) not in self.folders:
            raise self._error(UploadRejected, "server refused: 550 no such parent folder", path)
        self.folders.add(path)

    def _remove(self, path: str) -> None:
        self.files.pop(path, None)

    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        return None
