"""A tenant's fallback settings: where undeliverable events go as files, and how contacts go in bulk.

Plain data, read by the uploaders and the fallback sweep; secrets are SecretStr (their repr shows stars).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

Transport = Literal["none", "local", "ftp", "ftps", "sftp"]
ContactsFallback = Literal["bulk", "xml"]
BreakerMode = Literal["hold", "fallback"]
DEFAULT_SPILL_AFTER_S = 600.0
DEFAULT_IMPORT_GRACE_S = 900.0  # Voyado: files are for long disruptions; ten minutes of outage is long


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
    contacts_via: ContactsFallback = "bulk"
    # an outage longer than this spills receipts, returns and contacts to files (the rest waits and drains)
    spill_after_s: float = Field(default=DEFAULT_SPILL_AFTER_S, ge=0)
    # after an upload, how long Engage may take to import the file: its contacts get nothing newer by the
    # API meanwhile (the file would overwrite it). [inferred: Voyado imports files on its own schedule]
    import_grace_s: float = Field(default=DEFAULT_IMPORT_GRACE_S, ge=0)
    # promotion and voucher redemptions by our own redemptions file: only with a format agreed with Voyado
    redemptions_by_file: bool = False
    # first version: "fallback" dead-lettered at once while the breaker was open; now it means spill_after_s 0
    on_breaker_open: BreakerMode | None = None

    @model_validator(mode="before")
    @classmethod
    def _breaker_mode(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and data.get("on_breaker_open") == "fallback"
            and "spill_after_s" not in data
        ):
            return {**data, "spill_after_s": 0.0}
        return data
