"""`SftpUploader`: SFTP over SSH with paramiko (Voyado's documented channel, port 22).

Login with a private key (``UploadTarget.private_key_path``, optional passphrase) or else with
the password. The server's host key must match, before any credential is sent, either a
pinned ``SHA256:...`` fingerprint (``host_key_fingerprint``) or an entry of a known_hosts file
(``known_hosts_path``, default ``~/.ssh/known_hosts``); unknown or changed keys are
:class:`~fallback.uploaders.errors.UploadRejected`, never accepted.
The final rename is the protocol's own RENAME (SSH_FXP_RENAME), which by the SFTP draft fails when
the target exists (OpenSSH: ``link`` then ``unlink``, atomic); ``posix-rename@openssh.com`` is
never used, since it replaces the target. Missing folders are made with MKDIR.
"""

from __future__ import annotations

import contextlib
import hmac
import socket
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, Final

import paramiko

from fallback.uploaders.base import FinalNameExists, ProgressCallback, TransferUploader
from fallback.uploaders.errors import UploadError, UploadRejected, UploadUnavailable
from fallback.uploaders.target import UploadTarget

SSH_DEFAULT_PORT: Final = 22
DEFAULT_KNOWN_HOSTS: Final = Path("~/.ssh/known_hosts")
SFTP_READ_BYTES: Final = 32 * 1024


def known_hosts_name(host: str, port: int) -> str:
    """How OpenSSH names a host in known_hosts: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == SSH_DEFAULT_PORT else f"[{host}]:{port}"


class SftpUploader(TransferUploader):
    transport = "sftp"

    def __init__(self, target: UploadTarget) -> None:
        super().__init__(target)
        self._ssh: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def _is_connected(self) -> bool:
        return self._sftp is not None

    def _connect(self) -> None:
        target = self.target
        known = self._known_host_keys()
        sock = socket.create_connection(
            (target.host, target.effective_port), timeout=target.connect_timeout_s
        )
        ssh = paramiko.Transport(sock)
        self._ssh = ssh
        ssh.banner_timeout = target.connect_timeout_s
        ssh.handshake_timeout = target.connect_timeout_s
        ssh.auth_timeout = target.connect_timeout_s
        if known is not None:
            options = ssh.get_security_options()
            preferred = [kind for kind in options.key_types if kind in known]
            if preferred:
                options.key_types = preferred
        ssh.start_client(timeout=target.connect_timeout_s)
        self._check_host_key(ssh.get_remote_server_key(), known)
        self._authenticate(ssh)
        sftp = paramiko.SFTPClient.from_transport(ssh)
        if sftp is None:
            raise paramiko.SSHException("could not open the sftp subsystem")
        sftp.get_channel().settimeout(target.io_timeout_s)  # type: ignore[union-attr]
        self._sftp = sftp

    def _known_host_keys(self) -> Mapping[str, paramiko.PKey] | None:
        """The known_hosts entry for this server, or None when a fingerprint is pinned."""
        target = self.target
        if target.host_key_fingerprint is not None:
            return None
        path = (target.known_hosts_path or DEFAULT_KNOWN_HOSTS).expanduser()
        try:
            host_keys = paramiko.HostKeys(str(path))
        except OSError:
            raise self._error(
                UploadRejected, f"no known_hosts file at {path} and no pinned host key fingerprint", None
            ) from None
        name = known_hosts_name(target.host, target.effective_port)
        entry = host_keys.lookup(name)
        if entry is None:
            raise self._error(UploadRejected, f"host key of {name} is not in {path}", None)
        return entry

    def _check_host_key(self, key: paramiko.PKey, known: Mapping[str, paramiko.PKey] | None) -> None:
        pinned = self.target.host_key_fingerprint
        if pinned is not None:
            if not hmac.compare_digest(key.fingerprint, pinned.strip()):
                raise self._error(
                    UploadRejected, f"host key {key.fingerprint} does not match the pinned fingerprint", None
                )
            return
        assert known is not None
        expected = known.get(key.get_name())
        if expected is None or expected != key:
            raise self._error(
                UploadRejected,
                f"host key {key.fingerprint} does not match known_hosts (changed key or wrong server)",
                None,
            )

    def _authenticate(self, ssh: paramiko.Transport) -> None:
        target = self.target
        username = target.username or ""
        if target.private_key_path is not None:
            ssh.auth_publickey(username, self._private_key())
        elif target.password is not None:
            ssh.auth_password(username, target.password.get_secret_value())
        else:
            raise self._error(UploadRejected, "neither a private key nor a password is configured", None)

    def _private_key(self) -> paramiko.PKey:
        target = self.target
        assert target.private_key_path is not None
        passphrase = target.private_key_passphrase
        try:
            secret = passphrase.get_secret_value().encode() if passphrase is not None else None
            return paramiko.PKey.from_path(target.private_key_path, secret)  # type: ignore[arg-type]  # stub says str; cryptography needs bytes
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise self._error(
                UploadRejected,
                f"cannot load private key {target.private_key_path}: {type(exc).__name__}",
                None,
            ) from None

    def _client(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            raise RuntimeError("not connected")
        return self._sftp

    def _disconnect(self, *, polite: bool) -> None:
        sftp, self._sftp = self._sftp, None
        ssh, self._ssh = self._ssh, None
        if sftp is not None:
            with contextlib.suppress(Exception):
                sftp.close()
        if ssh is not None:
            with contextlib.suppress(Exception):
                ssh.close()

    def _send(self, source: BinaryIO, path: str, size: int, on_progress: ProgressCallback | None) -> None:
        self._client().putfo(source, path, file_size=size, callback=on_progress, confirm=False)

    def _remote_size(self, path: str) -> int | None:
        try:
            return self._client().stat(path).st_size
        except FileNotFoundError:
            return None

    def _rename_no_clobber(self, temp: str, final: str) -> None:
        # SSH_FXP_RENAME, never posix-rename@openssh.com (which replaces the target). OpenSSH links the
        # new name and fails with SSH_FX_FAILURE if it exists; paramiko turns that into a bare
        # OSError("Failure"), so a failed rename is told apart by looking at the final name.
        try:
            self._client().rename(temp, final)
        except OSError:
            if self._remote_size(final) is not None:
                raise FinalNameExists(final) from None
            raise

    def _read(self, path: str, consume: Callable[[bytes], None]) -> None:
        with self._client().open(path, "rb") as remote:
            while chunk := remote.read(SFTP_READ_BYTES):
                consume(chunk)

    def _is_folder(self, path: str) -> bool:
        try:
            mode = self._client().stat(path).st_mode
        except FileNotFoundError:
            return False
        return mode is not None and stat.S_ISDIR(mode)

    def _make_folder(self, path: str) -> None:
        self._client().mkdir(path)

    def _remove(self, path: str) -> None:
        self._client().remove(path)

    def _classify(self, exc: Exception, remote_path: str) -> UploadError | None:
        if isinstance(exc, paramiko.AuthenticationException):
            return self._error(UploadRejected, f"login refused: {type(exc).__name__}", remote_path)
        if isinstance(exc, PermissionError | FileNotFoundError | NotADirectoryError):
            return self._error(UploadRejected, f"server refused: {exc.strerror or exc}", remote_path)
        if isinstance(exc, paramiko.SSHException | OSError | EOFError):
            return self._error(UploadUnavailable, f"{type(exc).__name__}: {exc}", remote_path)
        return None
