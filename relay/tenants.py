"""Tenants: one Engage connection each, with its business policy; isolated from one another."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from engage.ratelimit import DEFAULT_LIVE_SHARE
from engage.transport import BAD_API_KEY, api_key_is_one_token
from fallback.config import FallbackSettings
from mappers.policy import TenantPolicy
from relay.errors import UnknownTenant

__all__ = ["DEFAULT_TENANT", "Tenant", "TenantRegistry", "UnknownTenant"]

DEFAULT_TENANT = "default"
DEFAULT_RATE_BUDGET_PER_S = 40.0
DEFAULT_SOFT_ID_MAX_AGE_S = 14 * 24 * 3600.0
"""An e-mail link's ``eclub`` token identifies for two weeks (api/soft_id.py says why); a tenant setting."""
TENANT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SOFT_ID_KEY_RE = re.compile(r"[A-Za-z0-9]{32}")  # Voyado's shared key (api.soft_id.SHARED_KEY_CHARS)


class Tenant(BaseModel):
    """One Engage tenant as the relay sees it. The API key is a SecretStr: its repr shows stars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    base_url: str
    api_key: SecretStr
    rate_budget_per_s: float = Field(default=DEFAULT_RATE_BUDGET_PER_S, gt=0, le=200)
    # while held or replayed events drain, live events and checkout reads keep this share of the budget
    live_share: float = Field(default=DEFAULT_LIVE_SHARE, ge=0, lt=1)
    policy: TenantPolicy = Field(default_factory=TenantPolicy)
    fallback: FallbackSettings = Field(default_factory=FallbackSettings)
    # Voyado's shared key for soft identification (32 characters a-z, A-Z, 0-9); None: not offered
    soft_id_key: SecretStr | None = None
    soft_id_max_age_s: float = Field(default=DEFAULT_SOFT_ID_MAX_AGE_S, gt=0)

    @field_validator("name")
    @classmethod
    def _name_is_slug(cls, value: str) -> str:
        if not TENANT_NAME_RE.match(value):
            raise ValueError("tenant name must be a lower-case slug: a-z, 0-9, '-' and '_', at most 63 chars")
        return value

    @field_validator("api_key")
    @classmethod
    def _api_key_is_one_token(cls, value: SecretStr) -> SecretStr:
        if not api_key_is_one_token(value.get_secret_value()):
            raise ValueError(f"the {BAD_API_KEY}")  # said without showing the key
        return value

    @field_validator("soft_id_key")
    @classmethod
    def _soft_id_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SOFT_ID_KEY_RE.fullmatch(value.get_secret_value()):
            raise ValueError("soft_id_key must be Voyado's shared key: 32 characters a-z, A-Z, 0-9")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must start with https:// (or http:// for a local simulator)")
        return value.rstrip("/")


class TenantRegistry:
    """The tenants of one deployment, by name."""

    def __init__(self, tenants: Iterable[Tenant]) -> None:
        self._tenants: dict[str, Tenant] = {}
        for tenant in tenants:
            if tenant.name in self._tenants:
                raise ValueError(f"tenant {tenant.name!r} is defined twice")
            self._tenants[tenant.name] = tenant

    def get(self, name: str) -> Tenant:
        try:
            return self._tenants[name]
        except KeyError:
            raise UnknownTenant(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tenants

    def __iter__(self) -> Iterator[Tenant]:
        return iter(self._tenants.values())

    def __len__(self) -> int:
        return len(self._tenants)

    def names(self) -> list[str]:
        return sorted(self._tenants)

    def as_mapping(self) -> Mapping[str, Tenant]:
        return dict(self._tenants)
