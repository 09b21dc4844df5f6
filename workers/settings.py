"""Process settings, read once at start from the environment (and an optional tenants file).

Only process entry points build `Settings` (through `workers.process.ProcessEnv`); libraries take plain
arguments, so tests need no environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from api.ratelimit import DEFAULT_REQUEST_BUDGET, RequestBudget
from api.settings import DEFAULT_ASSIGN_DEADLINE_S, DEFAULT_READ_DEADLINE_S, MAX_DEADLINE_S, ApiSettings
from engage.ratelimit import DEFAULT_LIVE_SHARE
from fallback.config import (
    DEFAULT_IMPORT_GRACE_S,
    DEFAULT_SPILL_AFTER_S,
    ContactsFallback,
    FallbackSettings,
    Transport,
)
from mappers.policy import TenantPolicy
from relay.breaker import BREAKER_OPEN_S, check_open_s
from relay.keys import OUTCOMES_STREAM
from relay.readcache import DEFAULT_FRESH_S, DEFAULT_STALE_KEEP_S, CacheTtl, ReadKind
from relay.retry import REDRIVE_AFTER_S
from relay.tenants import DEFAULT_TENANT, Tenant
from relay.tenants_file import TenantSources
from schemas.publish import EVENTS_STREAM

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# With nothing configured the relay talks to a local simulator (`engage-relay simulator`), never to a guess.
DEFAULT_ENGAGE_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_ENGAGE_API_KEY = "dev-key"
DEFAULT_WORKER_CONCURRENCY = 32
DEFAULT_METRICS_ADDR = "127.0.0.1"
DAY_S = 86_400
METRICS_PORT_ENV = "ENGAGE_RELAY_METRICS_PORT"
METRICS_ADDR_ENV = "ENGAGE_RELAY_METRICS_ADDR"
REMOTE_SUBDIRS_ENV = "ENGAGE_FALLBACK_REMOTE_SUBDIRS"
# With no ENGAGE_FALLBACK_TRANSPORT the default tenant has no file server: long outages hold and drain
# through the API, and dead letters wait (file-bound ones stay pending) until one is configured.
DEFAULT_FALLBACK_TRANSPORT: Transport = "none"


class Settings(BaseSettings):
    """Everything a process needs to start. Libraries never read the environment; they get these values."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    redis_url: str = Field(default=DEFAULT_REDIS_URL, validation_alias="REDIS_URL")
    tenants_file: Path | None = Field(default=None, validation_alias="ENGAGE_RELAY_TENANTS_FILE")
    engage_base_url: str = Field(default=DEFAULT_ENGAGE_BASE_URL, validation_alias="ENGAGE_BASE_URL")
    engage_api_key: SecretStr = Field(
        default=SecretStr(DEFAULT_ENGAGE_API_KEY), validation_alias="ENGAGE_API_KEY"
    )
    engage_source: str = Field(default="ECOM", validation_alias="ENGAGE_SOURCE")
    engage_store: str = Field(default="online", validation_alias="ENGAGE_STORE")
    engage_rate_budget_per_s: float = Field(default=40.0, validation_alias="ENGAGE_RATE_BUDGET_PER_S")
    engage_live_share: float = Field(
        default=DEFAULT_LIVE_SHARE, ge=0, lt=1, validation_alias="ENGAGE_LIVE_SHARE"
    )
    events_stream: str = Field(default=EVENTS_STREAM, validation_alias="ENGAGE_RELAY_EVENTS_STREAM")
    outcomes_stream: str = Field(default=OUTCOMES_STREAM, validation_alias="ENGAGE_RELAY_OUTCOMES_STREAM")
    worker_concurrency: int = Field(
        default=DEFAULT_WORKER_CONCURRENCY, validation_alias="ENGAGE_RELAY_WORKER_CONCURRENCY"
    )
    retry_ladder_s: str | None = Field(default=None, validation_alias="ENGAGE_RELAY_RETRY_LADDER_S")
    engage_connect_timeout_s: float = Field(
        default=3.05, gt=0, validation_alias="ENGAGE_RELAY_CONNECT_TIMEOUT_S"
    )
    engage_read_timeout_s: float = Field(default=15.0, gt=0, validation_alias="ENGAGE_RELAY_READ_TIMEOUT_S")
    breaker_open_s: float = Field(default=BREAKER_OPEN_S, validation_alias="ENGAGE_RELAY_BREAKER_OPEN_S")
    data_dir: Path = Field(default=Path(".var"), validation_alias="ENGAGE_RELAY_DATA_DIR")
    # how often beat sends the fallback sweep (dead letters to files / bulk API, outbox uploads)
    fallback_sweep_s: float = Field(default=60.0, gt=0, validation_alias="ENGAGE_RELAY_FALLBACK_SWEEP_S")
    # a job sent to the workers and neither settled nor parked within this is sent again (the reconciler)
    redrive_after_s: float = Field(
        default=REDRIVE_AFTER_S, ge=5, le=3600, validation_alias="ENGAGE_RELAY_REDRIVE_AFTER_S"
    )
    # what Redis keeps after an event ends (its outcome and trail; a rejection): so long, at most so many
    outcomes_retention_days: float = Field(
        default=7, gt=0, validation_alias="ENGAGE_RELAY_OUTCOMES_RETENTION_DAYS"
    )
    outcomes_maxlen: int = Field(default=1_000_000, ge=1000, validation_alias="ENGAGE_RELAY_OUTCOMES_MAXLEN")
    rejected_retention_days: float = Field(
        default=30, gt=0, validation_alias="ENGAGE_RELAY_REJECTED_RETENTION_DAYS"
    )
    rejected_maxlen: int = Field(default=100_000, ge=100, validation_alias="ENGAGE_RELAY_REJECTED_MAXLEN")
    # the default tenant's fallback transport (with no tenants file): where its files go, over what
    fallback_transport: Transport = Field(
        default=DEFAULT_FALLBACK_TRANSPORT, validation_alias="ENGAGE_FALLBACK_TRANSPORT"
    )
    fallback_host: str = Field(default="127.0.0.1", min_length=1, validation_alias="ENGAGE_FALLBACK_HOST")
    fallback_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="ENGAGE_FALLBACK_PORT")
    fallback_username: str | None = Field(default=None, validation_alias="ENGAGE_FALLBACK_USERNAME")
    fallback_password: SecretStr | None = Field(default=None, validation_alias="ENGAGE_FALLBACK_PASSWORD")
    fallback_private_key_path: str | None = Field(
        default=None, validation_alias="ENGAGE_FALLBACK_PRIVATE_KEY_PATH"
    )
    fallback_private_key_passphrase: SecretStr | None = Field(
        default=None, validation_alias="ENGAGE_FALLBACK_PRIVATE_KEY_PASSPHRASE"
    )
    fallback_known_hosts_path: str | None = Field(
        default=None, validation_alias="ENGAGE_FALLBACK_KNOWN_HOSTS_PATH"
    )
    fallback_host_key_fingerprint: str | None = Field(
        default=None, validation_alias="ENGAGE_FALLBACK_HOST_KEY_FINGERPRINT"
    )
    fallback_ca_file: str | None = Field(default=None, validation_alias="ENGAGE_FALLBACK_CA_FILE")
    fallback_remote_dir: str = Field(default="/", min_length=1, validation_alias="ENGAGE_FALLBACK_REMOTE_DIR")
    fallback_remote_subdirs: dict[str, str] | None = Field(default=None, validation_alias=REMOTE_SUBDIRS_ENV)
    fallback_local_dir: Path | None = Field(default=None, validation_alias="ENGAGE_FALLBACK_LOCAL_DIR")
    fallback_contacts_via: ContactsFallback = Field(
        default="bulk", validation_alias="ENGAGE_FALLBACK_CONTACTS_VIA"
    )
    fallback_spill_after_s: float = Field(
        default=DEFAULT_SPILL_AFTER_S, ge=0, validation_alias="ENGAGE_FALLBACK_SPILL_AFTER_S"
    )
    fallback_import_grace_s: float = Field(
        default=DEFAULT_IMPORT_GRACE_S, ge=0, validation_alias="ENGAGE_FALLBACK_IMPORT_GRACE_S"
    )
    fallback_redemptions_by_file: bool = Field(
        default=False, validation_alias="ENGAGE_FALLBACK_REDEMPTIONS_BY_FILE"
    )
    # the process's /metrics port: None -> the process's own default (9808 worker, 9809 ingest); 0 disables
    metrics_port: int | None = Field(default=None, validation_alias=METRICS_PORT_ENV)
    metrics_addr: str = Field(default=DEFAULT_METRICS_ADDR, validation_alias=METRICS_ADDR_ENV)
    # the browser console (served by `engage-relay api`): the key signing its session cookie (None: one
    # derived from ENGAGE_RELAY_SECRET_KEY, else a random one per process), and the cookie's Secure flag
    console_session_key: SecretStr | None = Field(
        default=None, validation_alias="ENGAGE_RELAY_CONSOLE_SESSION_KEY"
    )
    console_secure_cookies: bool = Field(
        default=False, validation_alias="ENGAGE_RELAY_CONSOLE_SECURE_COOKIES"
    )
    # the HTTP service (`engage-relay api`): read and assignment deadlines, per-token budget, read cache
    api_read_deadline_s: float = Field(
        default=DEFAULT_READ_DEADLINE_S,
        gt=0,
        le=MAX_DEADLINE_S,
        validation_alias="ENGAGE_RELAY_API_READ_DEADLINE_S",
    )
    api_assign_deadline_s: float = Field(
        default=DEFAULT_ASSIGN_DEADLINE_S,
        gt=0,
        le=MAX_DEADLINE_S,
        validation_alias="ENGAGE_RELAY_API_ASSIGN_DEADLINE_S",
    )
    api_requests_per_s: int = Field(
        default=DEFAULT_REQUEST_BUDGET.requests, ge=1, validation_alias="ENGAGE_RELAY_API_REQUESTS_PER_S"
    )
    read_cache_lookup_s: float = Field(
        default=DEFAULT_FRESH_S["lookup"], gt=0, validation_alias="ENGAGE_RELAY_READ_CACHE_LOOKUP_S"
    )
    read_cache_overview_s: float = Field(
        default=DEFAULT_FRESH_S["overview"], gt=0, validation_alias="ENGAGE_RELAY_READ_CACHE_OVERVIEW_S"
    )
    read_cache_vouchers_s: float = Field(
        default=DEFAULT_FRESH_S["vouchers"], gt=0, validation_alias="ENGAGE_RELAY_READ_CACHE_VOUCHERS_S"
    )
    read_cache_promotions_s: float = Field(
        default=DEFAULT_FRESH_S["promotions"], gt=0, validation_alias="ENGAGE_RELAY_READ_CACHE_PROMOTIONS_S"
    )
    read_cache_stale_s: float = Field(
        default=DEFAULT_STALE_KEEP_S, gt=0, validation_alias="ENGAGE_RELAY_READ_CACHE_STALE_S"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the mapping the entry point passes (its environment): nothing else is read behind its back."""
        return (init_settings,)

    @field_validator("breaker_open_s")
    @classmethod
    def _open_s_checked(cls, value: float) -> float:
        check_open_s(value)
        return value

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_port(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            port = int(str(value).strip())
        except ValueError:
            raise ValueError(
                f"{METRICS_PORT_ENV}={value!r} is not a port number (0 disables metrics)"
            ) from None
        if not 0 <= port <= 65535:
            raise ValueError(f"{METRICS_PORT_ENV}={port} is not a port number (0 disables metrics)")
        return port

    @field_validator("fallback_remote_subdirs", mode="before")
    @classmethod
    def _remote_subdirs(cls, value: object) -> object:
        """`contacts=contactImport,transactions=transactionImport` (an empty folder: remote_dir itself)."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        from fallback.outbox import REMOTE_SUBDIR_BY_KIND  # only when set: it loads the XML writers

        folders: dict[str, str] = {}
        for pair in value.split(","):
            kind, sep, folder = pair.strip().partition("=")
            if not sep or kind not in REMOTE_SUBDIR_BY_KIND:
                raise ValueError(
                    f"write KIND=FOLDER pairs separated by commas, KIND one of "
                    f"{', '.join(REMOTE_SUBDIR_BY_KIND)} (got {pair.strip()!r})"
                )
            folders[kind] = folder.strip()
        return folders

    def metrics_port_or(self, default: int) -> int:
        """The configured metrics port, else the process's default; 0 disables the endpoint."""
        return default if self.metrics_port is None else self.metrics_port

    def default_tenant(self) -> Tenant:
        """The single tenant `default`: ENGAGE_BASE_URL, ENGAGE_API_KEY, ENGAGE_SOURCE, ENGAGE_STORE, and its
        fallback transport from the ENGAGE_FALLBACK_* variables (`default_fallback`)."""
        return Tenant(
            name=DEFAULT_TENANT,
            base_url=self.engage_base_url,
            api_key=self.engage_api_key,
            rate_budget_per_s=self.engage_rate_budget_per_s,
            live_share=self.engage_live_share,
            policy=TenantPolicy(source=self.engage_source, default_store=self.engage_store),
            fallback=self.default_fallback(),
        )

    def default_fallback(self) -> FallbackSettings:
        """The default tenant's file server and fallback choices; its outbox under the data dir unless
        ENGAGE_FALLBACK_LOCAL_DIR names one."""
        local_dir = self.fallback_local_dir or self.data_dir / "outbox" / DEFAULT_TENANT
        return FallbackSettings(
            transport=self.fallback_transport,
            host=self.fallback_host,
            port=self.fallback_port,
            username=self.fallback_username,
            password=self.fallback_password,
            private_key_path=self.fallback_private_key_path,
            private_key_passphrase=self.fallback_private_key_passphrase,
            known_hosts_path=self.fallback_known_hosts_path,
            host_key_fingerprint=self.fallback_host_key_fingerprint,
            ca_file=self.fallback_ca_file,
            remote_dir=self.fallback_remote_dir,
            remote_subdirs=self.fallback_remote_subdirs,
            local_dir=str(local_dir),
            contacts_via=self.fallback_contacts_via,
            spill_after_s=self.fallback_spill_after_s,
            import_grace_s=self.fallback_import_grace_s,
            redemptions_by_file=self.fallback_redemptions_by_file,
        )

    @property
    def outcomes_retention_s(self) -> float:
        return self.outcomes_retention_days * DAY_S

    @property
    def rejected_retention_s(self) -> float:
        return self.rejected_retention_days * DAY_S

    def read_cache_ttl(self) -> CacheTtl:
        """The read cache's TTLs (the API reads with them; the workers invalidate under them)."""
        fresh_s: dict[ReadKind, float] = {
            "lookup": self.read_cache_lookup_s,
            "overview": self.read_cache_overview_s,
            "vouchers": self.read_cache_vouchers_s,
            "promotions": self.read_cache_promotions_s,
        }
        return CacheTtl(fresh_s=fresh_s, stale_keep_s=max(self.read_cache_stale_s, *fresh_s.values()))

    def api_settings(self) -> ApiSettings:
        """The HTTP service's settings."""
        return ApiSettings(
            read_deadline_s=self.api_read_deadline_s,
            assign_deadline_s=self.api_assign_deadline_s,
            cache_ttl=self.read_cache_ttl(),
            request_budget=RequestBudget(requests=self.api_requests_per_s, per_s=1),
            events_stream=self.events_stream,
        )

    def tenant_sources(self) -> TenantSources:
        return TenantSources(self.tenants_file, self.default_tenant(), self.redis_url)
