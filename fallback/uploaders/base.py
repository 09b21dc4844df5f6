"""The `Uploader` role and the one upload procedure every transport shares.

An upload, whatever the transport:

1. checks the remote name and sub-folder (:func:`~fallback.uploaders.paths.resolve_remote`)
   before any connection, and opens the local file;
2. connects if this uploader has no live connection (connections are lazy and reused for a
   batch: ``with uploader: uploader.upload(...); uploader.upload(...)``; outside ``with``, the
   connection stays open until :meth:`close`);
3. writes the bytes to ``.{name}.part`` in the target folder;
4. verifies that the remote size of the temporary file equals the local size (a short file is
   removed and never renamed);
5. renames it to the final name (replacing a file of that name: a retried upload of the same
   file is idempotent), and checks the final name has the expected size;
6. only then, when ``remove_local`` is true (the default), deletes the local file.

Any failure drops the connection (the next upload reconnects) and raises an
:class:`~fallback.uploaders.errors.UploadError`; a file is never left under its final name
unless it was complete when renamed.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

import structlog

from fallback.uploaders.errors import UploadError, UploadUnavailable, redact
from fallback.uploaders.paths import resolve_remote
from fallback.uploaders.target import UploadTarget

ProgressCallback = Callable[[int, int], None]
"""Called as ``(bytes_sent_so_far, total_bytes)`` while a file is being sent."""

log = structlog.get_logger("fallback.uploaders")


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    """A verified upload: where it went, how many bytes, how long it took."""

    remote_path: str
    bytes: int
    seconds: float
    local_removed: bool


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

    def close(self) -> None: ...


class TransferUploader(abc.ABC):
    """The shared procedure; a transport supplies the primitive operations."""

    transport: str = ""

    def __init__(self, target: UploadTarget) -> None:
        self.target = target

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
                self._send(source, location.temp, size, on_progress)
                self._verify_size(location.temp, size, remove_on_mismatch=True)
                self._rename(location.temp, location.final)
                self._verify_size(location.final, size, remove_on_mismatch=False)
            except UploadError as exc:
                self._fail(exc)
                raise
            except Exception as exc:
                error = self._classify(exc, location.final)
                if error is None:
                    self._disconnect(polite=False)
                    raise
                self._fail(error)
                raise error from exc
        removed = False
        if remove_local:
            local_path.unlink()
            removed = True
        receipt = UploadReceipt(
            remote_path=location.final, bytes=size, seconds=time.monotonic() - started, local_removed=removed
        )
        log.info(
            "fallback.upload.done",
            transport=self.transport,
            host=self.target.host,
            remote_path=receipt.remote_path,
            bytes=receipt.bytes,
            seconds=round(receipt.seconds, 3),
        )
        return receipt

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
    def _rename(self, temp: str, final: str) -> None:
        """Rename, replacing ``final`` if it exists."""

    @abc.abstractmethod
    def _remove(self, path: str) -> None: ...

    @abc.abstractmethod
    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        """The UploadError for a transport exception, None to let a programming error through."""
