"""Everything an uploader needs to reach one tenant's file server.

:class:`UploadTarget` is built from the tenant's :class:`~fallback.config.FallbackSettings`
plus the options those settings do not (yet) carry:

- ``ca_file``: FTPS trusts this CA bundle instead of the system's (a private or self-signed CA).
  Certificate and host name verification are always on.
- ``known_hosts_path`` / ``host_key_fingerprint``: how SFTP checks the server's host key; a
  known_hosts file (OpenSSH format, ``[host]:port`` entries for other ports than 22) or a pinned
  ``SHA256:...`` fingerprint as ``ssh-keygen -lf`` prints it. With neither, ``~/.ssh/known_hosts``
  is used; an unknown key is never accepted.
- ``private_key_passphrase``: for an encrypted SFTP private key.
- ``connect_timeout_s`` / ``io_timeout_s``: bounds on connecting and on each network read/write.

For transport ``local``, ``remote_dir`` is the local drop folder (it must exist; ``/`` is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from pydantic import SecretStr

from fallback.config import FallbackSettings
from fallback.uploaders.paths import check_base_dir

UploadTransport = Literal["local", "ftp", "ftps", "sftp"]

CONNECT_TIMEOUT_S: Final = 10.0
IO_TIMEOUT_S: Final = 30.0
DEFAULT_PORTS: Final[dict[str, int]] = {"ftp": 21, "ftps": 21, "sftp": 22, "local": 0}


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """One file server (or local drop folder) and how to log in and check who it is."""

    transport: UploadTransport
    remote_dir: str
    host: str = "127.0.0.1"
    port: int | None = None
    username: str | None = None
    password: SecretStr | None = None
    private_key_path: Path | None = None
    private_key_passphrase: SecretStr | None = None
    known_hosts_path: Path | None = None
    host_key_fingerprint: str | None = None
    ca_file: Path | None = None
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    io_timeout_s: float = IO_TIMEOUT_S

    def __post_init__(self) -> None:
        check_base_dir(self.remote_dir)
        if self.transport == "local" and Path(self.remote_dir) == Path("/"):
            raise ValueError("transport 'local' needs remote_dir set to the drop folder, not '/'")
        if any(ch in self.host for ch in "\r\n\x00/") or not self.host:
            raise ValueError("host must be a plain host name or address")
        if self.username is not None and any(ch in self.username for ch in "\r\n\x00"):
            raise ValueError("username must not contain line breaks or NUL")
        if self.connect_timeout_s <= 0 or self.io_timeout_s <= 0:
            raise ValueError("timeouts must be positive")

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else DEFAULT_PORTS[self.transport]

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """Secret values, for redaction of messages; never log this."""
        return (
            self.password.get_secret_value() if self.password is not None else None,
            self.private_key_passphrase.get_secret_value() if self.private_key_passphrase else None,
        )

    @classmethod
    def from_settings(
        cls,
        settings: FallbackSettings,
        *,
        ca_file: Path | None = None,
        known_hosts_path: Path | None = None,
        host_key_fingerprint: str | None = None,
        private_key_passphrase: SecretStr | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        io_timeout_s: float = IO_TIMEOUT_S,
    ) -> UploadTarget:
        if settings.transport == "none":
            raise ValueError("fallback transport 'none' has no uploader")
        return cls(
            transport=settings.transport,
            remote_dir=settings.remote_dir,
            host=settings.host,
            port=settings.port,
            username=settings.username,
            password=settings.password,
            private_key_path=Path(settings.private_key_path) if settings.private_key_path else None,
            private_key_passphrase=private_key_passphrase or settings.private_key_passphrase,
            known_hosts_path=known_hosts_path or _path(settings.known_hosts_path),
            host_key_fingerprint=host_key_fingerprint or settings.host_key_fingerprint,
            ca_file=ca_file or _path(settings.ca_file),
            connect_timeout_s=connect_timeout_s,
            io_timeout_s=io_timeout_s,
        )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
