"""`FtpUploader` (plain FTP) and `FtpsUploader` (explicit TLS, ``AUTH TLS`` + ``PROT P``), on ftplib.

Binary mode (``TYPE I``) is set once per connection, so ``SIZE`` reports exact byte counts.
FTPS verifies the server certificate and host name, always: against the system's CAs, or only
against ``UploadTarget.ca_file`` when it is set. An untrusted certificate is
:class:`~fallback.uploaders.errors.UploadRejected` (retrying will not fix it; an operator must
install the right CA); other TLS failures are :class:`~fallback.uploaders.errors.UploadUnavailable`.
Data connections resume the control connection's TLS session (vsftpd and FileZilla ask for it).
FTP replies 5xx (login refused, permission denied, a folder that cannot be created) are
rejections; 4xx replies, timeouts, refused and reset connections are unavailability.
No-clobber: FTP's RNTO replaces an existing file, so the final name is checked with ``SIZE``
right before ``RNFR``/``RNTO`` and again after (see the gap this leaves in
:mod:`fallback.uploaders.base`). Folders are tested with ``CWD`` and made with ``MKD``.
"""

from __future__ import annotations

import contextlib
import ftplib
import socket
import ssl
from collections.abc import Callable
from typing import BinaryIO, Final

from fallback.uploaders.base import FinalNameExists, ProgressCallback, TransferUploader
from fallback.uploaders.errors import UploadError, UploadRejected, UploadUnavailable
from fallback.uploaders.target import UploadTarget

FTP_BLOCK_BYTES: Final = 64 * 1024
FTP_NOT_FOUND_REPLY: Final = "550"


class _SessionReusingFtpTls(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session.

    Servers such as vsftpd (``require_ssl_reuse``) and FileZilla refuse data connections that
    do not, so that nobody else can hijack the data port; ftplib alone never reuses the session.
    """

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321  # the plain part; TLS below
        if getattr(self, "_prot_p", False) and isinstance(self.sock, ssl.SSLSocket):
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


class FtpUploader(TransferUploader):
    transport = "ftp"

    def __init__(self, target: UploadTarget) -> None:
        super().__init__(target)
        self._ftp: ftplib.FTP | None = None

    def _new_client(self) -> ftplib.FTP:
        return ftplib.FTP()  # noqa: S321  # plain FTP is a transport a tenant may choose; FTPS/SFTP exist

    def _secure_control(self, ftp: ftplib.FTP) -> None:
        """Hook: FTPS switches the control connection to TLS before login."""

    def _secure_data(self, ftp: ftplib.FTP) -> None:
        """Hook: FTPS protects the data connections after login."""

    def _is_connected(self) -> bool:
        return self._ftp is not None

    def _connect(self) -> None:
        target = self.target
        ftp = self._new_client()
        self._ftp = ftp
        ftp.connect(target.host, target.effective_port, timeout=target.connect_timeout_s)
        ftp.timeout = target.io_timeout_s  # data connections and every later read/write
        if ftp.sock is not None:
            ftp.sock.settimeout(target.io_timeout_s)
        self._secure_control(ftp)
        password = target.password.get_secret_value() if target.password is not None else ""
        ftp.login(target.username or "anonymous", password)
        self._secure_data(ftp)
        ftp.voidcmd("TYPE I")

    def _client(self) -> ftplib.FTP:
        if self._ftp is None:
            raise RuntimeError("not connected")
        return self._ftp

    def _disconnect(self, *, polite: bool) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is None:
            return
        if polite:
            with contextlib.suppress(Exception):
                ftp.quit()
        with contextlib.suppress(Exception):
            ftp.close()

    def _send(self, source: BinaryIO, path: str, size: int, on_progress: ProgressCallback | None) -> None:
        sent = 0

        def block_sent(block: bytes) -> None:
            nonlocal sent
            sent += len(block)
            if on_progress is not None:
                on_progress(sent, size)

        self._client().storbinary(f"STOR {path}", source, FTP_BLOCK_BYTES, block_sent)

    def _remote_size(self, path: str) -> int | None:
        try:
            return self._client().size(path)
        except ftplib.error_perm as exc:
            if str(exc).startswith(FTP_NOT_FOUND_REPLY):
                return None
            raise

    def _rename_no_clobber(self, temp: str, final: str) -> None:
        # RNTO replaces an existing file on every common server (vsftpd, pyftpdlib, ProFTPD), and FTP
        # has no "rename unless it exists": check the final name right before RNFR/RNTO.
        if self._remote_size(final) is not None:
            raise FinalNameExists(final)
        self._client().rename(temp, final)

    def _read(self, path: str, consume: Callable[[bytes], None]) -> None:
        self._client().retrbinary(f"RETR {path}", consume, FTP_BLOCK_BYTES)

    def _is_folder(self, path: str) -> bool:
        # CWD is the one folder test every server has (vsftpd knows no MLST); every other command
        # names absolute paths, so the working folder it leaves behind does not matter.
        try:
            self._client().cwd(path)
        except ftplib.error_perm as exc:
            if str(exc).startswith(FTP_NOT_FOUND_REPLY):
                return False
            raise
        return True

    def _make_folder(self, path: str) -> None:
        self._client().mkd(path)

    def _remove(self, path: str) -> None:
        self._client().delete(path)

    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return self._error(
                UploadRejected, f"server certificate not trusted: {exc.verify_message}", remote_path
            )
        if isinstance(exc, ftplib.error_perm):
            return self._error(UploadRejected, f"server refused: {exc}", remote_path)
        if isinstance(exc, ftplib.error_temp | ftplib.error_reply | ftplib.error_proto):
            return self._error(UploadUnavailable, f"server answered: {exc}", remote_path)
        if isinstance(exc, OSError | EOFError):
            return self._error(UploadUnavailable, f"{type(exc).__name__}: {exc}", remote_path)
        return None


class FtpsUploader(FtpUploader):
    transport = "ftps"

    def _new_client(self) -> ftplib.FTP:
        cafile = str(self.target.ca_file) if self.target.ca_file is not None else None
        context = ssl.create_default_context(cafile=cafile)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return _SessionReusingFtpTls(context=context)

    def _secure_control(self, ftp: ftplib.FTP) -> None:
        assert isinstance(ftp, ftplib.FTP_TLS)
        ftp.auth()

    def _secure_data(self, ftp: ftplib.FTP) -> None:
        assert isinstance(ftp, ftplib.FTP_TLS)
        ftp.prot_p()
