"""Process settings, read once at start from the environment (and an optional tenants file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tasks.breaker import BREAKER_OPEN_S
from tasks.retry import BROKER_VISIBILITY_TIMEOUT_S

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# With nothing configured the relay talks to a local simulator (`engage-relay simulator`), never to a guess.
DEFAULT_ENGAGE_BASE_URL = "http://127.0.0.1:8080"
DEFAULT_ENGAGE_API_KEY = "dev-key"
DEFAULT_WORKER_CONCURRENCY = 32


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
    events_stream: str = Field(default="engage:events", validation_alias="ENGAGE_RELAY_EVENTS_STREAM")
    outcomes_stream: str = Field(default="engage:outcomes", validation_alias="ENGAGE_RELAY_OUTCOMES_STREAM")
    worker_concurrency: int = Field(
        default=DEFAULT_WORKER_CONCURRENCY, validation_alias="ENGAGE_RELAY_WORKER_CONCURRENCY"
    )
    retry_ladder_s: str | None = Field(default=None, validation_alias="ENGAGE_RELAY_RETRY_LADDER_S")
    visibility_timeout_s: float = Field(
        default=BROKER_VISIBILITY_TIMEOUT_S, gt=0, validation_alias="ENGAGE_RELAY_VISIBILITY_TIMEOUT_S"
    )
    engage_connect_timeout_s: float = Field(
        default=3.05, gt=0, validation_alias="ENGAGE_RELAY_CONNECT_TIMEOUT_S"
    )
    engage_read_timeout_s: float = Field(default=15.0, gt=0, validation_alias="ENGAGE_RELAY_READ_TIMEOUT_S")
    breaker_open_s: float = Field(
        default=BREAKER_OPEN_S, gt=0, validation_alias="ENGAGE_RELAY_BREAKER_OPEN_S"
    )
    data_dir: Path = Field(default=Path(".var"), validation_alias="ENGAGE_RELAY_DATA_DIR")
    # how often beat sends the fallback sweep (dead letters to files / bulk API, outbox uploads)
    fallback_sweep_s: float = Field(default=60.0, gt=0, validation_alias="ENGAGE_RELAY_FALLBACK_SWEEP_S")
