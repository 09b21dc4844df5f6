"""The `Uploader` role and the one upload procedure every transport shares.

An upload, whatever the transport:

1. checks the remote name and sub-folder (:func:`~fallback.uploaders.paths.resolve_remote`)
   before any connection, and opens the local file;
2. connects if this uploader has no live connection (connections are lazy and reused for a
   batch: ``with uploader: uploader.upload(...); uploader.upload(...)``; outside ``with``, the
   connection stays open until :meth:`close`);
3. creates the missing folders between the configured ``remote_dir`` and the file (``mkdir -p``,
   once per folder and connection); ``remote_dir`` itself must exist and is never created;
4. if the final name is already taken, sends nothing: a file with the very same bytes is our own
   earlier upload (a retry after a crash or a lost reply) and counts as delivered
   (``UploadReceipt.already_present``); a different file raises
   :class:`~fallback.uploaders.errors.RemoteNameTaken` and is left untouched;
5. writes the bytes to ``.{name}.part`` in the target folder and verifies that its remote size
   equals the local size (a short file is removed and never renamed);
6. renames it to the final name **without ever replacing a file**: each transport's
   :meth:`TransferUploader._rename_no_clobber` (SFTP: the protocol's RENAME, which fails on an
   existing target; FTP: SIZE of the final name right before RNFR/RNTO; local: ``link`` then
   ``unlink``). A file that appeared under the final name meanwhile is settled as in step 4 and
   the temporary file removed. Then the final name's size is checked again;
7. only then, when ``remove_local`` is true (the default), deletes the local file.

Any failure but :class:`~fallback.uploaders.errors.RemoteNameTaken` drops the connection (the
next upload reconnects) and raises an :class:`~fallback.uploaders.errors.UploadError`; a file is
never left under its final name unless it was complete when renamed, and never replaces another.
The one gap left is FTP's: RNTO itself replaces, so a foreign file created between the SIZE check
and RNTO (a few milliseconds) would be replaced; every name we send is unique per tenant and kind
(fallback/file_sequence.py), so only a foreign writer using our names could hit it. Two uploads
of one name at the same moment would share the temporary name; the tenant's sweep lock
(fallback/sweep_lock.py) keeps a tenant's uploads one at a time.
"""

from __future__ import annotations

import abc
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, Protocol, Self

import structlog

from fallback.uploaders.errors import (
    RemoteNameTaken,
    UploadError,
    UploadRejected,
    UploadUnavailable,
    redact,
)
from fallback.uploaders.paths import RemoteLocation, resolve_remote
from fallback.uploaders.target import UploadTarget

ProgressCallback = Callable[[int, int], None]
"""Called as ``(bytes_sent_so_far, total_bytes)`` while a file is being sent."""

log = structlog.get_logger("fallback.uploaders")


COMPARE_CHUNK_BYTES: Final = 64 * 1024


class FinalNameExists(Exception):
    """Raised by :meth:`TransferUploader._rename_no_clobber` when the final name is taken."""


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    """A verified upload: where it went, how many bytes, how long it took.

    ``already_present``: the server already held these exact bytes under the final name (an
    earlier attempt whose success was never recorded); nothing was sent.
    """

    remote_path: str
    bytes: int
    seconds: float
    local_removed: bool
    already_present: bool = False


class Uploader(Protocol):
    """Delivers local files to one file server folder; see the module docstring for the steps."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def upload(
        self,
        local_path: Path,
        remote_name: str,
        remote_subdir: str = "",
        *,
        remove_local: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> UploadReceipt: ...

    def remove(self, remote_path: str) -> None: ...

    def close(self) -> None: ...


class TransferUploader(abc.ABC):
    """The shared procedure; a transport supplies the primitive operations."""

    transport: str = ""

    def __init__(self, target: UploadTarget) -> None:
        self.target = target
        self._known_folders: set[str] = set()  # folders seen or made on this connection

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(host={self.target.host!r}, port={self.target.effective_port}, "
            f"remote_dir={self.target.remote_dir!r})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Log out politely if connected; never raises."""
        self._known_folders.clear()
        if self._is_connected():
            self._disconnect(polite=True)

    def upload(
        self,
        local_path: Path,
        remote_name: str,
        remote_subdir: str = "",
        *,
        remove_local: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> UploadReceipt:
        location = resolve_remote(self.target.remote_dir, remote_subdir, remote_name)
        started = time.monotonic()
        with local_path.open("rb") as source:
            size = local_path.stat().st_size
            try:
                if not self._is_connected():
                    self._connect()
                self._ensure_folder(location)
                present = self._remote_size(location.final) is not None
                if present:
                    self._settle_taken_name(location.final, source, size)
                else:
                    present = self._send_and_rename(location, source, size, on_progress)
            except RemoteNameTaken as exc:
                log.warning(
                    "fallback.upload.name_taken",
                    transport=self.transport,
                    host=self.target.host,
                    remote_path=exc.remote_path,
                )
                raise
            except UploadError as exc:
                self._fail(exc)
                raise
            except Exception as exc:
                error = self._classify(exc, location.final)
                if error is None:
                    self._disconnect(polite=False)
                    self._known_folders.clear()
                    raise
                self._fail(error)
                raise error from exc
        removed = False
        if remove_local:
            local_path.unlink()
            removed = True
        receipt = UploadReceipt(
            remote_path=location.final,
            bytes=size,
            seconds=time.monotonic() - started,
            local_removed=removed,
            already_present=present,
        )
        log.info(
            "fallback.upload.done",
            transport=self.transport,
            host=self.target.host,
            remote_path=receipt.remote_path,
            bytes=receipt.bytes,
            seconds=round(receipt.seconds, 3),
            already_present=present,
        )
        return receipt

    def remove(self, remote_path: str) -> None:
        """Delete one file on the server (the connection test's own probe file, never an import file)."""
        try:
            if not self._is_connected():
                self._connect()
            self._remove(remote_path)
        except UploadError as exc:
            self._fail(exc)
            raise
        except Exception as exc:
            error = self._classify(exc, remote_path)
            if error is None:
                raise
            self._fail(error)
            raise error from exc

    def _send_and_rename(
        self, location: RemoteLocation, source: BinaryIO, size: int, on_progress: ProgressCallback | None
    ) -> bool:
        """Steps 5 and 6; True when the final name turned out to hold these bytes already."""
        self._send(source, location.temp, size, on_progress)
        self._verify_size(location.temp, size, remove_on_mismatch=True)
        try:
            self._rename_no_clobber(location.temp, location.final)
        except FinalNameExists:
            self._remove_quietly(location.temp)
            self._settle_taken_name(location.final, source, size)
            return True
        self._verify_size(location.final, size, remove_on_mismatch=False)
        return False

    def _ensure_folder(self, location: RemoteLocation) -> None:
        """``mkdir -p`` of the folders below ``remote_dir``; UploadRejected when it does not exist."""
        if location.folder in self._known_folders:
            return
        if not self._is_folder(location.folder):
            if not self._is_folder(location.base):
                raise self._error(
                    UploadRejected,
                    f"remote_dir {location.base} does not exist (it is never created; check the setting)",
                    location.final,
                )
            for folder in location.folders_below_base():
                if folder in self._known_folders or self._is_folder(folder):
                    continue
                try:
                    self._make_folder(folder)
                except Exception as exc:
                    if self._is_folder(folder):  # made by someone else meanwhile
                        continue
                    if self._classify(exc, folder) is None:
                        raise  # a programming error, not the server's answer
                    raise self._error(
                        UploadRejected, f"cannot create remote folder {folder}: {exc}", location.final
                    ) from exc
                log.info(
                    "fallback.upload.folder_created",
                    transport=self.transport,
                    host=self.target.host,
                    remote_path=folder,
                )
        self._known_folders.add(location.folder)

    def _settle_taken_name(self, final: str, source: BinaryIO, size: int) -> None:
        """Return if ``final`` holds exactly the local bytes, else raise RemoteNameTaken."""
        if self._remote_size(final) == size and self._same_bytes(final, source):
            log.info("fallback.upload.already_present", transport=self.transport, remote_path=final)
            return
        raise self._error(
            RemoteNameTaken,
            f"a different file named {posixpath.basename(final)} is already on the server; "
            "it was left untouched",
            final,
        )

    def _same_bytes(self, path: str, source: BinaryIO) -> bool:
        """Stream the remote file and compare it with the local one, chunk by chunk."""
        source.seek(0)
        same = True

        def compare(chunk: bytes) -> None:
            nonlocal same
            if same and source.read(len(chunk)) != chunk:
                same = False

        self._read(path, compare)
        return same and source.read(1) == b""

    def _verify_size(self, path: str, expected: int, *, remove_on_mismatch: bool) -> None:
        actual = self._remote_size(path)
        if actual == expected:
            return
        if remove_on_mismatch and actual is not None:
            self._remove_quietly(path)
        raise self._error(UploadUnavailable, f"remote size {actual} differs from local size {expected}", path)

    def _remove_quietly(self, path: str) -> None:
        try:
            self._remove(path)
        except Exception as exc:  # best effort: the caller is about to see the real error
            log.warning("fallback.upload.cleanup_failed", remote_path=path, error=type(exc).__name__)

    def _fail(self, error: UploadError) -> None:
        self._disconnect(polite=False)
        self._known_folders.clear()
        log.warning(
            "fallback.upload.failed",
            transport=self.transport,
            host=self.target.host,
            remote_path=error.remote_path,
            error=type(error).__name__,
            reason=error.message,
        )

    def _error(self, kind: type[UploadError], reason: str, remote_path: str | None) -> UploadError:
        """An error whose message names the server and path, with every secret redacted."""
        where = f"{self.transport} {self.target.host}:{self.target.effective_port}"
        text = redact(f"{where}: {reason}", self.target.secrets)
        return kind(text, transport=self.transport, host=self.target.host, remote_path=remote_path)

    @abc.abstractmethod
    def _is_connected(self) -> bool: ...

    @abc.abstractmethod
    def _connect(self) -> None:
        """Connect, verify the server's identity and log in."""

    @abc.abstractmethod
    def _disconnect(self, *, polite: bool) -> None:
        """Drop the connection; never raises."""

    @abc.abstractmethod
    def _send(self, source: BinaryIO, path: str, size: int, on_progress: ProgressCallback | None) -> None: ...

    @abc.abstractmethod
    def _remote_size(self, path: str) -> int | None:
        """Size of a remote file, None if it does not exist."""

    @abc.abstractmethod
    def _rename_no_clobber(self, temp: str, final: str) -> None:
        """Rename ``temp`` to ``final``; raise FinalNameExists (leaving both) if ``final`` exists."""

    @abc.abstractmethod
    def _read(self, path: str, consume: Callable[[bytes], None]) -> None:
        """Pass the remote file's bytes to ``consume``, in chunks."""

    @abc.abstractmethod
    def _is_folder(self, path: str) -> bool:
        """Whether ``path`` is an existing folder."""

    @abc.abstractmethod
    def _make_folder(self, path: str) -> None:
        """Create one folder whose parent exists."""

    @abc.abstractmethod
    def _remove(self, path: str) -> None: ...

    @abc.abstractmethod
    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        """The UploadError for a transport exception, None to let a programming error through."""
