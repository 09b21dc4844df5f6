"""A tenant's fallback settings: where undeliverable events go as files, and how contacts go in bulk.

Plain data, read by the uploaders and the fallback sweep; secrets are SecretStr (their repr shows stars).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

Transport = Literal["none", "local", "ftp", "ftps", "sftp"]
ContactsFallback = Literal["bulk", "xml"]
BreakerMode = Literal["hold", "fallback"]


class FallbackSettings(BaseModel):
    """Where a tenant's undeliverable events go as files, and how contacts are sent in bulk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transport: Transport = "local"
    host: str = "127.0.0.1"
    port: int | None = None
    username: str | None = None
    password: SecretStr | None = None
    private_key_path: str | None = None
    private_key_passphrase: SecretStr | None = None
    known_hosts_path: str | None = None  # SFTP: host keys to trust (default ~/.ssh/known_hosts)
    host_key_fingerprint: str | None = None  # SFTP: pin the server's key (`ssh-keygen -lf`, SHA256:...)
    ca_file: str | None = None  # FTPS: trust only this CA (default: the system's)
    remote_dir: str = "/"
    # per file kind (contacts, transactions, promotion-redemptions) the sub folder of remote_dir; None:
    # fallback.outbox.REMOTE_SUBDIR_BY_KIND; "" uploads into remote_dir itself
    remote_subdirs: dict[str, str] | None = None
    local_dir: str = ".var/outbox"
    contacts_via: ContactsFallback = "xml"
    on_breaker_open: BreakerMode = "fallback"
